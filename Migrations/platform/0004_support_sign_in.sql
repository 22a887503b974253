-- "Sign in as": a partner's or the platform's staff enter a shop's panel as one of its people, for support, with a
-- reason and a time limit. The session remembers who is really at the keyboard; the token carries the reason.
ALTER TABLE platform.sessions ADD COLUMN impersonator_id uuid REFERENCES platform.users (id) ON DELETE CASCADE,
    ADD COLUMN impersonation_reason text;
ALTER TABLE platform.one_time_tokens ADD COLUMN note text;
ALTER TABLE platform.one_time_tokens DROP CONSTRAINT one_time_tokens_purpose_check;
ALTER TABLE platform.one_time_tokens ADD CONSTRAINT one_time_tokens_purpose_check
    CHECK (purpose IN ('invite', 'reset', 'handoff', 'impersonate'));

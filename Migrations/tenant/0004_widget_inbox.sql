-- The web chat widget, the operators' inbox and the shopper's data. Runs with search_path set to the tenant's schema.

-- Per bot: the storefront origins its widget may be embedded in, the launcher's side, the pre-chat form
-- ({"name": "off|optional|required", "email": ..., "phone": ...}).
ALTER TABLE bots
    ADD COLUMN allowed_origins text[] NOT NULL DEFAULT '{}' CHECK (cardinality(allowed_origins) <= 20),
    ADD COLUMN launcher_position text NOT NULL DEFAULT 'right' CHECK (launcher_position IN ('right', 'left')),
    ADD COLUMN prechat jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(prechat) = 'object');

-- The shop's inbox: one row.
CREATE TABLE inbox_settings (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- The widget's signed-identity secret (HS256), sealed by the installation's key (SecretBox).
    identity_secret text CHECK (length(identity_secret) <= 400),
    -- Highlight conversations that wait longer than this for a person.
    target_wait_seconds integer NOT NULL DEFAULT 300 CHECK (target_wait_seconds BETWEEN 30 AND 86400),
    -- Hand waiting conversations to online operators with room, in turn.
    auto_assign boolean NOT NULL DEFAULT false,
    operator_capacity integer NOT NULL DEFAULT 5 CHECK (operator_capacity BETWEEN 1 AND 100),
    -- Conversations whose last message is older than this many days are deleted (NULL: kept).
    retention_days integer CHECK (retention_days BETWEEN 1 AND 3650),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO inbox_settings DEFAULT VALUES;

-- A widget visitor: a random token kept in the browser (its SHA-256 here) and the contact behind it.
CREATE TABLE widget_visitors (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    -- The shop's customer id (`sub`) when the token was given for a signed identity.
    customer text CHECK (length(customer) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX widget_visitors_contact ON widget_visitors (contact_id);

ALTER TABLE conversations
    -- Since when the conversation waits for a person (waiting state).
    ADD COLUMN waiting_since timestamptz,
    ADD COLUMN csat_rating smallint CHECK (csat_rating BETWEEN 1 AND 5),
    ADD COLUMN csat_comment text CHECK (length(csat_comment) <= 2000),
    -- The last message the shopper has seen (the widget's unread count).
    ADD COLUMN shopper_read_id bigint NOT NULL DEFAULT 0;
CREATE INDEX conversations_assignee ON conversations (assignee_id, state) WHERE assignee_id IS NOT NULL;
UPDATE conversations SET waiting_since = updated_at WHERE state = 'waiting';

ALTER TABLE messages
    -- A bot message answers this shopper message (at most one answer each: a retried job cannot answer twice).
    ADD COLUMN reply_to bigint REFERENCES messages (id) ON DELETE CASCADE,
    -- An operator's note for colleagues: never shown to the shopper.
    ADD COLUMN internal boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX messages_answer ON messages (reply_to) WHERE author = 'bot';

-- Live updates: every new message and every change of a conversation's state or assignee tells the processes that
-- stream it ("<schema> <conversation> m <message id>" / "c <state>"); the payload carries ids, never content.
CREATE FUNCTION message_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_notify('vitrina_conversations', TG_TABLE_SCHEMA || ' ' || NEW.conversation_id || ' m ' || NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_notify AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION message_notify();

CREATE FUNCTION conversation_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_notify('vitrina_conversations', TG_TABLE_SCHEMA || ' ' || NEW.id || ' c ' || NEW.state);
    RETURN NULL;
END
$$;
CREATE TRIGGER conversations_notify AFTER INSERT OR UPDATE OF state, assignee_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversation_notify();

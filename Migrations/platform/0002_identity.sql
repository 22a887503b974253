-- Who may sign in, where, and what they did: users, memberships, sessions, one-time tokens, login throttling,
-- the audit log and the mail outbox. Tokens are stored only as SHA-256 hashes.

CREATE TABLE platform.users (
    id uuid PRIMARY KEY,
    email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
    name text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    -- argon2id in PHC form; NULL until the user sets a password (invited, or created by a manifest without one).
    password_hash text CHECK (password_hash LIKE '$argon2id$%'),
    language text CHECK (language IN ('ru', 'en')),
    disabled_at timestamptz,
    password_changed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON platform.users (email);

-- A membership gives a user a role on the platform (both ids NULL), on a partner or on a tenant.
CREATE TABLE platform.memberships (
    user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    partner_id uuid REFERENCES platform.partners (id) ON DELETE CASCADE,
    tenant_id uuid REFERENCES platform.tenants (id) ON DELETE CASCADE,
    role text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(partner_id, tenant_id) <= 1),
    CHECK (CASE
        WHEN tenant_id IS NOT NULL THEN role IN ('owner', 'admin', 'operator', 'viewer')
        WHEN partner_id IS NOT NULL THEN role IN ('partner_owner', 'partner_admin')
        ELSE role = 'platform_admin' END)
);
CREATE UNIQUE INDEX memberships_scope ON platform.memberships
    (user_id, coalesce(partner_id, tenant_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE INDEX memberships_tenant ON platform.memberships (tenant_id) WHERE tenant_id IS NOT NULL;
CREATE INDEX memberships_partner ON platform.memberships (partner_id) WHERE partner_id IS NOT NULL;

-- A signed-in browser on one host. Cookies are host-only, so a session belongs to exactly one host.
CREATE TABLE platform.sessions (
    id uuid PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    host text NOT NULL,
    csrf_token text NOT NULL,
    flash text,
    address text,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON platform.sessions (user_id);
CREATE INDEX sessions_expires ON platform.sessions (expires_at);

-- Single-use tokens for invitations, password resets and the hand-off from a partner panel to a tenant's host.
CREATE TABLE platform.one_time_tokens (
    token_hash bytea PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('invite', 'reset', 'handoff')),
    user_id uuid REFERENCES platform.users (id) ON DELETE CASCADE,
    email text,
    partner_id uuid REFERENCES platform.partners (id) ON DELETE CASCADE,
    tenant_id uuid REFERENCES platform.tenants (id) ON DELETE CASCADE,
    role text,
    created_by uuid REFERENCES platform.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX one_time_tokens_tenant ON platform.one_time_tokens (tenant_id, purpose) WHERE used_at IS NULL;

-- Failed sign-ins, per account and per client address.
CREATE TABLE platform.login_failures (
    key text PRIMARY KEY,
    failures integer NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
);

CREATE TABLE platform.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid,
    actor_email text,
    partner_id uuid,
    tenant_id uuid,
    action text NOT NULL,
    target text NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    address text
);
CREATE INDEX audit_log_tenant ON platform.audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_partner ON platform.audit_log (partner_id, id DESC);

CREATE TABLE platform.outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id uuid,
    tenant_id uuid,
    to_address text NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text,
    -- queued → sent | failed; 'logged' when no SMTP server is configured (the message is only in the log and here).
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'logged')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX outbox_due ON platform.outbox (next_attempt_at) WHERE status = 'queued';

-- Per-tenant figures the partner and platform panels list without opening every tenant's schema; kept current by a
-- statement trigger in each tenant schema (tenant migration 0002).
CREATE TABLE platform.tenant_stats (
    tenant_id uuid PRIMARY KEY REFERENCES platform.tenants (id) ON DELETE CASCADE,
    articles integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION platform.refresh_article_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    EXECUTE format('SELECT count(*) FROM %I.help_articles', TG_TABLE_SCHEMA) INTO n;
    INSERT INTO platform.tenant_stats (tenant_id, articles, updated_at)
        SELECT t.id, n, now() FROM platform.tenants t WHERE t.schema_name = TG_TABLE_SCHEMA
        ON CONFLICT (tenant_id) DO UPDATE SET articles = EXCLUDED.articles, updated_at = now();
    RETURN NULL;
END
$$;

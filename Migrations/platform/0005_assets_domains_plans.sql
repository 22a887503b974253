-- Uploaded brand images, custom-domain verification, and plans with quotas.

-- Logos and favicons, content-addressed: the URL carries the SHA-256, so the file can be cached for a year and a new
-- upload gets a new URL. The bytes were checked (PNG, ICO) or rebuilt from an allow-list (SVG) before they got here.
CREATE TABLE platform.brand_assets (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/svg+xml', 'image/x-icon')),
    bytes bytea NOT NULL CHECK (octet_length(bytes) BETWEEN 1 AND 524288),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Domains added in a panel or through the API start unverified, with a token to publish in DNS (a TXT record) or to
-- be served over HTTP by this installation once the domain points here. Domains from tenants.yml are trusted as given.
ALTER TABLE platform.domains
    ADD COLUMN verification_token text CHECK (verification_token ~ '^[A-Za-z0-9_-]{20,64}$'),
    ADD COLUMN verified_by text CHECK (verified_by IN ('dns', 'http', 'operator')),
    ADD COLUMN checked_at timestamptz,
    ADD COLUMN check_result text CHECK (length(check_result) <= 500);
UPDATE platform.domains SET verified_by = 'operator' WHERE verified_at IS NOT NULL;
-- At most one primary domain per site; the others redirect to it.
CREATE UNIQUE INDEX domains_one_primary_tenant ON platform.domains (tenant_id) WHERE is_primary AND tenant_id IS NOT NULL;
CREATE UNIQUE INDEX domains_one_primary_partner ON platform.domains (partner_id) WHERE is_primary AND partner_id IS NOT NULL;
ALTER TABLE platform.domains ADD CONSTRAINT domains_primary_verified CHECK (NOT is_primary OR verified_at IS NOT NULL);
CREATE INDEX domains_pending ON platform.domains (checked_at NULLS FIRST) WHERE verified_at IS NULL;

-- Plans: a partner's offers to its clients (partner_id NULL: the platform's own, for tenants without a partner).
-- A NULL limit is "unlimited". The LLM budget counts tokens per calendar month.
CREATE TABLE platform.plans (
    id uuid PRIMARY KEY,
    partner_id uuid REFERENCES platform.partners (id) ON DELETE CASCADE,
    slug text NOT NULL CHECK (slug ~ '^[a-z][a-z0-9-]{0,38}[a-z0-9]$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    max_bots integer CHECK (max_bots >= 0),
    max_messages_per_month integer CHECK (max_messages_per_month >= 0),
    max_seats integer CHECK (max_seats >= 1),
    llm_tokens_per_month bigint CHECK (llm_tokens_per_month >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX plans_slug ON platform.plans (COALESCE(partner_id, '00000000-0000-0000-0000-000000000000'::uuid), slug);

ALTER TABLE platform.tenants ADD COLUMN plan_id uuid REFERENCES platform.plans (id) ON DELETE SET NULL;
CREATE INDEX tenants_plan ON platform.tenants (plan_id);

-- Seats a shop's team takes: its members and its invitations still open (the agency's staff are not members).
-- One definition for the seat check, the reseller console and the API.
CREATE FUNCTION platform.seats_used(p_tenant uuid) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT (SELECT count(*)::int FROM platform.memberships WHERE tenant_id = p_tenant)
        + (SELECT count(*)::int FROM platform.one_time_tokens
           WHERE tenant_id = p_tenant AND purpose = 'invite' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now())
$$;

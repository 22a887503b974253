-- API keys for the provisioning API: each belongs to exactly one partner or one tenant. Only the SHA-256 hash of the
-- whole token is kept; the prefix (not secret) is what lists show so people can tell their keys apart.

CREATE TABLE platform.api_keys (
    id uuid PRIMARY KEY,
    partner_id uuid REFERENCES platform.partners (id) ON DELETE CASCADE,
    tenant_id uuid REFERENCES platform.tenants (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix text NOT NULL UNIQUE CHECK (prefix ~ '^ak_[a-z0-9]{8}$'),
    secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    scopes text[] NOT NULL,
    created_by uuid REFERENCES platform.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    CHECK (num_nonnulls(partner_id, tenant_id) = 1)
);
CREATE INDEX api_keys_partner ON platform.api_keys (partner_id, created_at DESC) WHERE partner_id IS NOT NULL;
CREATE INDEX api_keys_tenant ON platform.api_keys (tenant_id, created_at DESC) WHERE tenant_id IS NOT NULL;

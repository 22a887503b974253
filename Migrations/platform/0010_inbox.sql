-- Operators' presence in a shop's inbox, shared by every process: an open inbox page reports every 30 s; a row
-- older than 90 s counts as offline.
CREATE TABLE platform.operator_presence (
    tenant_id uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    status text NOT NULL CHECK (status IN ('online', 'away')),
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);

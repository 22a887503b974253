-- Warnings about a shop's LLM tokens: one row per shop, month and level (80: the share of the month's effective limit
-- at which its owners and admins get one e-mail). Written in the transaction that counted the tokens which crossed
-- it, with the job that sends the e-mail, so a warning is sent once however many answers cross it at the same time.
CREATE TABLE platform.usage_warnings (
    tenant_id uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    level smallint NOT NULL CHECK (level IN (80, 100)),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, month, level)
);

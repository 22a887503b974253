-- The bot engine's platform parts: trigram matching for typos (shared by every tenant schema, which reaches it as
-- platform.similarity and OPERATOR(platform.%)), and the messages each shop used per month against its plan.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA platform;

-- One row per shop and calendar month (UTC), updated in the transaction that stores a shopper's message.
CREATE TABLE platform.message_usage (
    tenant_id uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    messages integer NOT NULL DEFAULT 0 CHECK (messages >= 0),
    PRIMARY KEY (tenant_id, month)
);

-- The embedding model the tenants' passages were last embedded with: when the installation's model changes, every
-- shop's knowledge is embedded again (AppServices.embedKnowledgeAfterModelChange).
ALTER TABLE platform.settings ADD COLUMN embeddings_model text;

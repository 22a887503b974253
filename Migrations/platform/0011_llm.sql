-- LLM answers at the agency level and their cost: an agency's provider (used by its shops' bots that follow it), a
-- shop's own lower token cap, and tokens counted per shop and month beside the messages.
ALTER TABLE platform.partners
    ADD COLUMN llm jsonb CHECK (llm IS NULL OR jsonb_typeof(llm) = 'object'),
    -- Sealed by the installation's key (SecretBox).
    ADD COLUMN llm_key text CHECK (length(llm_key) <= 4000);

ALTER TABLE platform.tenants ADD COLUMN llm_token_cap bigint CHECK (llm_token_cap >= 0);

ALTER TABLE platform.message_usage
    ADD COLUMN llm_prompt_tokens bigint NOT NULL DEFAULT 0 CHECK (llm_prompt_tokens >= 0),
    ADD COLUMN llm_completion_tokens bigint NOT NULL DEFAULT 0 CHECK (llm_completion_tokens >= 0),
    ADD COLUMN llm_calls integer NOT NULL DEFAULT 0 CHECK (llm_calls >= 0);

-- A change of an agency's model reaches its shops' cached bots (they read it with the rest of the bot).
CREATE FUNCTION platform.partner_llm_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('vitrina_knowledge', t.schema_name) FROM platform.tenants t WHERE t.partner_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER partners_llm_changed AFTER UPDATE OF llm, llm_key ON platform.partners
    FOR EACH ROW EXECUTE FUNCTION platform.partner_llm_changed();

-- Shops that follow their agency's model embed with its provider when its settings say `embeddings: provider`: a
-- change of such a provider (or of its key), or a switch to or from it, queues each of the agency's shops' embedding
-- job (the job re-embeds only what is not the shop's current model's; a shop whose bot has its own model has nothing
-- to do). A shop that moves to or from such an agency re-embeds too, and its cached bots are read again.
CREATE FUNCTION platform.partner_embeddings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO platform.jobs (tenant_id, kind, idempotency_key)
    SELECT t.id, 'bot.embed-knowledge', 'embed-knowledge:' || t.id || ':' || pg_catalog.txid_current()
    FROM platform.tenants t WHERE t.partner_id = NEW.id AND t.status IN ('active', 'suspended')
    ON CONFLICT (idempotency_key) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER partners_embeddings_changed AFTER UPDATE OF llm, llm_key ON platform.partners FOR EACH ROW
    WHEN ((coalesce(OLD.llm ->> 'embeddings', '') = 'provider' OR coalesce(NEW.llm ->> 'embeddings', '') = 'provider')
        AND (OLD.llm IS DISTINCT FROM NEW.llm OR OLD.llm_key IS DISTINCT FROM NEW.llm_key))
    EXECUTE FUNCTION platform.partner_embeddings_changed();

CREATE FUNCTION platform.tenant_partner_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM platform.partners p
               WHERE p.id IN (OLD.partner_id, NEW.partner_id) AND p.llm ->> 'embeddings' = 'provider') THEN
        INSERT INTO platform.jobs (tenant_id, kind, idempotency_key)
        VALUES (NEW.id, 'bot.embed-knowledge', 'embed-knowledge:' || NEW.id || ':' || pg_catalog.txid_current())
        ON CONFLICT (idempotency_key) DO NOTHING;
    END IF;
    -- The shop's cached bots read their agency's model again (chat and embeddings).
    PERFORM pg_catalog.pg_notify('vitrina_knowledge', NEW.schema_name);
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_partner_changed AFTER UPDATE OF partner_id ON platform.tenants FOR EACH ROW
    WHEN (OLD.partner_id IS DISTINCT FROM NEW.partner_id AND NEW.status IN ('active', 'suspended'))
    EXECUTE FUNCTION platform.tenant_partner_changed();

-- A shop's embedding model follows its first bot's language model (`embeddings: provider` in the provider's settings,
-- its own or its agency's): a change of that bot's model queues the shop's embedding job, which re-embeds every passage
-- whose vector is not the shop's current model's (one job per transaction, as the passages' trigger queues).
-- Instructions and on_uncited say nothing about embeddings; a new key of a bot whose own provider embeds can (one that
-- failed may work now), and re-sealing keys (`vitrina secrets rotate`) of other bots queues nothing.
CREATE FUNCTION bots_embedding_model_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id <> (SELECT min(id) FROM bots) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' AND OLD.id > (SELECT min(id) FROM bots) THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM knowledge_passages) THEN
        INSERT INTO platform.jobs (tenant_id, kind, idempotency_key)
        SELECT t.id, 'bot.embed-knowledge', 'embed-knowledge:' || t.id || ':' || txid_current()
        FROM platform.tenants t WHERE t.schema_name = TG_TABLE_SCHEMA
        ON CONFLICT (idempotency_key) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER bots_embedding_model_changed AFTER UPDATE OF llm, llm_key ON bots FOR EACH ROW
    WHEN ((OLD.llm - 'instructions' - 'on_uncited') IS DISTINCT FROM (NEW.llm - 'instructions' - 'on_uncited')
        OR (OLD.llm_key IS DISTINCT FROM NEW.llm_key AND NEW.llm ->> 'mode' = 'own'
            AND NEW.llm -> 'provider' ->> 'embeddings' = 'provider'))
    EXECUTE FUNCTION bots_embedding_model_changed();
CREATE TRIGGER bots_deleted_embedding_model AFTER DELETE ON bots FOR EACH ROW EXECUTE FUNCTION bots_embedding_model_changed();

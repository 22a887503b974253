import App
import Foundation

/// W3c's ceiling: pgbench running, per message, the SQL the path runs (written out from the code: the webhook's
/// connection read, `BotEngine.accept`'s transaction with the `bot.answer` job, the job's claim, read, answer
/// transaction (whose insert fires `messages_deliver`) and completion, then `channel.deliver`'s claim, prepare
/// transaction with the send slot, outcome and completion), one script per shop over the shoppers the run opened.
/// Retrieval, rendering and HTTP are not in it: it is what PostgreSQL alone allows.
extension Bench {
    func w3cCeiling(chats: Int) async throws -> Double? {
        guard let pgbench = pgbenchPath() else {
            say("pgbench not found; skipping W3c's ceiling.")
            return nil
        }
        let rows = try await withServices("bench_w3c", configure: { $0.secretKey = Self.w3cSecretKey }) { services in
            try await services.database.values(
                (String, UUID, String).self, "SELECT slug, id, schema_name FROM platform.tenants WHERE slug LIKE 'c%' ORDER BY slug")
        }
        var scripts: [String] = []
        let statements = Self.w3cScript(shop: 1, tenant: "", schema: "", chats: chats).split(separator: "\n").filter { !$0.hasPrefix("\\") }
            .count
        for (slug, id, schema) in rows {
            guard let shop = Int(slug.dropFirst()) else { continue }
            let file = options.workdir + "/w3c-\(slug).sql"
            try Self.w3cScript(shop: shop, tenant: id.uuidString.lowercased(), schema: schema, chats: chats)
                .write(toFile: file, atomically: true, encoding: .utf8)
            scripts += ["-f", file]
        }
        let output = try ProcessRunner.run(
            [
                pgbench, "-n", "-M", "extended", "-c", "32", "-j", "2", "-T", "\(options.w3cDuration)", "-h", socketFolder,
                "-U", serverURL.username,
            ] + scripts + ["bench_w3c"]
        ).output
        let line = output.split(separator: "\n").first { $0.hasPrefix("tps = ") }.map(String.init)
        let latency = output.split(separator: "\n").first { $0.hasPrefix("latency average") }.map(String.init) ?? ""
        let aborted = output.split(separator: "\n").filter { $0.contains("aborted") }.count
        guard let line, aborted == 0 else {
            say("pgbench failed:\n" + output.split(separator: "\n").suffix(8).joined(separator: "\n"))
            return nil
        }
        say(
            "PostgreSQL ceiling (pgbench -M extended, one message's \(statements) statements (BEGIN and COMMIT included) per transaction over \(rows.count) shops, -c32 -j2, "
                + "\(options.w3cDuration) s; scripts in \(options.workdir)/w3c-c*.sql): \(line); \(latency)")
        return Double(line.dropFirst("tps = ".count).prefix { $0.isNumber || $0 == "." })
    }

    /// One message of shop `shop` from a random one of its shoppers (whose conversation exists), as the path sends it.
    static func w3cScript(shop: Int, tenant: String, schema: String, chats: Int) -> String {
        let s = schema
        let door =
            "SELECT pg_catalog.set_config('search_path', schema_name, true) FROM platform.tenants "
            + "WHERE id = '\(tenant)' AND schema_name = '\(s)' AND status = ANY('{active}'::text[]);"
        let claim = { (job: String) in
            """
            WITH due AS (SELECT id FROM platform.jobs WHERE status IN ('queued', 'running') AND run_at <= now() AND id = :\(job)::bigint \
            ORDER BY run_at, id LIMIT 4 FOR UPDATE SKIP LOCKED) UPDATE platform.jobs j SET status = 'running', attempts = j.attempts + 1, \
            lease_token = gen_random_uuid(), leased_by = 'pgbench', run_at = now() + make_interval(secs => 60) FROM due \
            WHERE j.id = due.id RETURNING j.lease_token::text AS lease \\gset
            """
        }
        let complete = { (job: String) in
            """
            UPDATE platform.jobs SET status = 'done', finished_at = now(), last_error = NULL, lease_token = NULL, leased_by = NULL \
            WHERE id = :\(job)::bigint AND lease_token = :lease::uuid RETURNING 1;
            """
        }
        let lines = [
            "\\set chat random(0, \(chats - 1))",
            "\\set u random(1000000000, 2000000000)",
            // The webhook: its connection by key (one prepared read), then accept's transaction.
            "SELECT c.id AS cid, c.bot_id AS bot, c.webhook_key, c.secrets FROM \(s).channel_connections c WHERE c.kind = 'telegram' LIMIT 1 \\gset",
            "BEGIN;", door,
            """
            WITH i AS (SELECT contact_id FROM \(s).contact_identities WHERE channel = 'telegram' AND external_id = (\(shop)00000 + :chat)::text), \
            u AS (UPDATE \(s).contacts SET name = 'Покупатель', updated_at = now() WHERE id = (SELECT contact_id FROM i) AND name IS NULL) \
            SELECT contact_id AS contact FROM i \\gset
            """,
            """
            SELECT c.id AS conv, c.state FROM \(s).conversations c JOIN \(s).contacts co ON co.id = c.contact_id WHERE c.contact_id = :contact::bigint \
            AND c.bot_id = :bot::bigint AND c.channel = 'telegram' ORDER BY c.id DESC LIMIT 1 FOR UPDATE OF c \\gset
            """,
            """
            WITH m AS (INSERT INTO \(s).messages (conversation_id, channel, author, text, channel_message_id, parts) VALUES (:conv::bigint, \
            'telegram', 'shopper', 'Сколько идёт доставка?', :cid::text || ':' || :u::text, '[]'::jsonb) ON CONFLICT (channel, channel_message_id) \
            WHERE channel_message_id IS NOT NULL DO NOTHING RETURNING id), u AS (INSERT INTO platform.message_usage AS u (tenant_id, month, messages) \
            SELECT '\(tenant)', date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1 FROM m ON CONFLICT (tenant_id, month) DO UPDATE \
            SET messages = u.messages + 1 RETURNING messages), c AS (UPDATE \(s).conversations SET last_message_at = now() \
            WHERE id = :conv::bigint AND EXISTS (SELECT 1 FROM m)) SELECT (SELECT id FROM m) AS shopper, (SELECT messages FROM u) AS used, \
            (SELECT p.max_messages_per_month FROM platform.tenants t JOIN platform.plans p ON p.id = t.plan_id WHERE t.id = '\(tenant)') AS quota \\gset
            """,
            """
            INSERT INTO platform.jobs (tenant_id, kind, payload, run_at, max_attempts, idempotency_key) VALUES ('\(tenant)', 'bot.answer', \
            jsonb_build_object('conversation', :conv::bigint, 'message', :shopper::bigint), now(), 5, 'answer:' || '\(tenant)' || ':' || :shopper::text) \
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id AS answerjob \\gset
            """,
            "COMMIT;",
            // bot.answer: claimed, the shopper's words read, the answer stored under the conversation's lock.
            claim("answerjob"),
            "BEGIN READ ONLY;", door,
            """
            SELECT m.text FROM \(s).messages m JOIN \(s).conversations c ON c.id = m.conversation_id WHERE m.id = :shopper::bigint \
            AND m.conversation_id = :conv::bigint AND m.author = 'shopper' AND c.state = 'bot' AND NOT EXISTS (SELECT 1 FROM \(s).messages a \
            WHERE a.reply_to = m.id AND a.author = 'bot');
            """,
            "COMMIT;",
            "BEGIN;", door,
            "SELECT c.id FROM \(s).conversations c JOIN \(s).contacts co ON co.id = c.contact_id WHERE c.id = :conv::bigint FOR UPDATE OF c;",
            """
            WITH r AS (INSERT INTO \(s).messages (conversation_id, channel, author, text, parts, explanation, delivery, reply_to) \
            VALUES (:conv::bigint, 'telegram', 'bot', 'Курьер привезёт заказ за 1–3 дня, в другие города СДЭК доставляет за 2–6 рабочих дней.', \
            '[]'::jsonb, jsonb_build_object('step', 'faq', 'entry', 'delivery-time', 'score', 0.9), 'queued', :shopper::bigint) ON CONFLICT (reply_to) \
            WHERE author = 'bot' DO NOTHING RETURNING id), c AS (UPDATE \(s).conversations SET fallbacks_in_row = 0, language = 'ru', \
            updated_at = now(), last_message_at = now() WHERE id = :conv::bigint AND EXISTS (SELECT 1 FROM r)) SELECT id AS answer FROM r \\gset
            """,
            "COMMIT;",
            complete("answerjob"),
            // channel.deliver (queued by the trigger): claimed, prepared with its send slot, sent (not here), recorded.
            "SELECT id AS deliverjob FROM platform.jobs WHERE idempotency_key = 'deliver:' || '\(tenant)' || ':' || :answer::text \\gset",
            claim("deliverjob"),
            "BEGIN;", door,
            """
            SELECT m.text, m.parts::text, c.language, c.bot_id, m.channel, (SELECT i.external_id FROM \(s).contact_identities i \
            WHERE i.contact_id = c.contact_id AND i.channel = c.channel ORDER BY i.created_at DESC LIMIT 1), \
            extract(epoch FROM clock_timestamp() - (SELECT max(x.created_at) FROM \(s).messages x WHERE x.conversation_id = c.id \
            AND x.author = 'shopper'))::float8 FROM \(s).messages m JOIN \(s).conversations c ON c.id = m.conversation_id \
            WHERE m.id = :answer::bigint AND m.delivery = 'queued' AND NOT m.internal AND m.author <> 'shopper';
            """,
            "SELECT c.id, c.bot_id, c.kind, c.webhook_key, c.status, c.secrets FROM \(s).channel_connections c WHERE c.bot_id = :bot::bigint AND c.kind = 'telegram';",
            """
            WITH w AS (INSERT INTO \(s).channel_send_slots AS s (connection_id, chat, next_at) SELECT :cid::bigint, k.chat, \
            clock_timestamp() + make_interval(secs => k.gap) FROM unnest(ARRAY['', (\(shop)00000 + :chat)::text], ARRAY[0.0001, 0.0001]::float8[]) \
            AS k(chat, gap) ON CONFLICT (connection_id, chat) DO UPDATE SET next_at = greatest(s.next_at, clock_timestamp()) \
            + (excluded.next_at - clock_timestamp()) RETURNING s.next_at, s.chat) SELECT greatest(0, max(extract(epoch FROM w.next_at \
            - clock_timestamp())::float8 - 0.0001))::float8 FROM w;
            """,
            "COMMIT;",
            "BEGIN;", door,
            """
            UPDATE \(s).messages SET delivery = 'sent', delivery_error = NULL, channel_message_id = CASE WHEN EXISTS (SELECT 1 \
            FROM \(s).messages o WHERE o.channel = messages.channel AND o.channel_message_id = 'out:' || :cid::text || ':' || :u::text) \
            THEN NULL ELSE 'out:' || :cid::text || ':' || :u::text END WHERE id = :answer::bigint AND delivery = 'queued';
            """,
            "COMMIT;",
            complete("deliverjob"),
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}

import Foundation
import Logging
import PostgresNIO

/// What the skill reads and writes around the engine's turn, through the tenant door: the bot for the greeting and
/// the help, and the delivery of answers (a bot message on Alice is `queued` until a response has carried it).
struct AliceStore: Sendable {
    let tenants: TenantDatabase
    let snapshots: BotSnapshots

    /// A message to say: its id, text and buttons.
    struct Spoken: Sendable, Equatable {
        var id: Int
        var text: String
        var parts: [MessagePart]
    }

    typealias SpokenFields = (Int, String, String)

    static func spoken(_ fields: SpokenFields) -> Spoken {
        Spoken(id: fields.0, text: fields.1, parts: (try? JSONDecoder().decode([MessagePart].self, from: Data(fields.2.utf8))) ?? [])
    }

    /// The bot's settings and knowledge (from the cache when current) and the language of the shopper's latest
    /// conversation with it on Alice; nil when the bot is gone.
    func opening(botID: Int, shopper: String?, tenant: TenantRecord, logger: Logger) async throws -> (BotSnapshot, BotLanguage?)? {
        try await tenants.withTenant(tenant, readOnly: true, logger: logger) { connection in
            guard let snapshot = try await snapshots.snapshot(botID: botID, schema: tenant.schema, on: connection) else { return nil }
            guard let shopper else { return (snapshot, nil) }
            let language = try await connection.value(
                String.self,
                """
                SELECT c.language FROM conversations c JOIN contact_identities i ON i.contact_id = c.contact_id
                WHERE i.channel = 'alice' AND i.external_id = \(shopper) AND c.bot_id = \(botID) AND c.channel = 'alice'
                    AND c.language IS NOT NULL
                ORDER BY c.id DESC LIMIT 1
                """)
            return (snapshot, language.flatMap(BotLanguage.init(rawValue:)))
        }
    }

    /// The answers the shopper has not heard yet in their conversations with the bot on Alice (bot, system and operator
    /// messages still `queued`), oldest first, marked `sent` by the same statement: two turns at once cannot both say one.
    func claimUnheard(botID: Int, shopper: String, tenant: TenantRecord, logger: Logger) async throws -> [Spoken] {
        let rows = try await tenants.withTenant(tenant, logger: logger) { connection in
            try await connection.values(
                SpokenFields.self,
                """
                UPDATE messages m SET delivery = 'sent'
                FROM conversations c JOIN contact_identities i ON i.contact_id = c.contact_id
                WHERE m.conversation_id = c.id AND i.channel = 'alice' AND i.external_id = \(shopper) AND c.bot_id = \(botID)
                    AND c.channel = 'alice' AND m.delivery = 'queued' AND NOT m.internal AND m.author IN ('bot', 'system', 'operator')
                RETURNING m.id::int, m.text, m.parts::text
                """)
        }
        return rows.map(Self.spoken).sorted { $0.id < $1.id }
    }

    /// The bot's answer to the shopper message Alice sent with this dedupe key (a redelivered turn), marked `sent`.
    func answer(toTurn key: String, tenant: TenantRecord, logger: Logger) async throws -> Spoken? {
        try await tenants.withTenant(tenant, logger: logger) { connection in
            try await connection.value(
                SpokenFields.self,
                """
                UPDATE messages b SET delivery = 'sent' FROM messages s
                WHERE s.channel = 'alice' AND s.channel_message_id = \(key) AND b.reply_to = s.id AND b.author IN ('bot', 'system')
                RETURNING b.id::int, b.text, b.parts::text
                """
            ).map(Self.spoken)
        }
    }

    /// Whether one of the shopper's messages of the last minute still waits for the bot's answer (a reply that went on
    /// past the budget).
    func awaitingAnswer(botID: Int, shopper: String, tenant: TenantRecord, logger: Logger) async throws -> Bool {
        try await tenants.withTenant(tenant, readOnly: true, logger: logger) { connection in
            try await connection.value(
                Bool.self,
                """
                SELECT EXISTS (SELECT 1 FROM messages s JOIN conversations c ON c.id = s.conversation_id
                    JOIN contact_identities i ON i.contact_id = c.contact_id
                    WHERE i.channel = 'alice' AND i.external_id = \(shopper) AND c.bot_id = \(botID) AND c.channel = 'alice'
                        AND c.state = 'bot' AND s.author = 'shopper' AND s.created_at > now() - interval '1 minute'
                        AND NOT EXISTS (SELECT 1 FROM messages b WHERE b.reply_to = s.id))
                """) ?? false
        }
    }

    /// Records that a response carried the message.
    func markSent(_ id: Int, tenant: TenantRecord, logger: Logger) async throws {
        try await tenants.withTenant(tenant, logger: logger) { connection in
            try await connection.execute("UPDATE messages SET delivery = 'sent' WHERE id = \(id) AND delivery = 'queued'")
        }
    }
}

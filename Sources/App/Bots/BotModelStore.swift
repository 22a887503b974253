import Foundation
import PostgresNIO

/// A bot's language model as the panel and the API edit it: its settings (`bots.llm`) and its sealed key
/// (`bots.llm_key`), and the model its agency gives, inside the shop's transaction.
public struct BotModelStore: Sendable {
    public init() {}

    /// The bot `slug` names (the shop's first when nil) with its sealed key and its agency's model.
    func state(slug: String?, tenantID: UUID, on tenant: TenantConnection) async throws -> BotModelState? {
        let found =
            if let slug { try await BotStore().find(slug: slug, on: tenant) } else { try await BotStore().find(id: nil, on: tenant) }
        guard let bot = found else { return nil }
        return BotModelState(
            bot: bot, sealedKey: try await sealedKey(botID: bot.id, on: tenant),
            agency: try await agencyModel(tenantID: tenantID, on: tenant))
    }

    /// The bot's sealed key (nil: none); with `lock`, its row locked for the rest of the transaction.
    func sealedKey(botID: Int, lock: Bool = false, on tenant: TenantConnection) async throws -> String? {
        try await tenant.value(
            String.self, "SELECT llm_key FROM bots WHERE id = \(botID) AND llm_key IS NOT NULL \(unescaped: lock ? "FOR UPDATE" : "")")
    }

    /// The bots of the shop that have a key of their own.
    func botsWithKeys(on tenant: TenantConnection) async throws -> Set<Int> {
        Set(try await tenant.values(Int.self, "SELECT id::int FROM bots WHERE llm_key IS NOT NULL"))
    }

    /// Writes the bot's model settings and its sealed key; `false` when the bot is gone. `LLMSettings.check` first.
    func write(botID: Int, _ settings: LLMSettings, sealedKey: String?, on tenant: TenantConnection) async throws -> Bool {
        try LLMSettings.check(settings)
        return try await !tenant.rows(
            """
            UPDATE bots SET llm = \(settings.json)::jsonb, llm_key = \(sealedKey), updated_at = now()
            WHERE id = \(botID) RETURNING id
            """
        ).isEmpty
    }

    /// The provider and sealed key the shop's agency gives its shops' bots, if it gives one.
    func agencyModel(tenantID: UUID, on tenant: TenantConnection) async throws -> (provider: LLMProvider, sealedKey: String?)? {
        guard
            let row = try await tenant.value(
                (String, String?).self,
                """
                SELECT p.llm::text, p.llm_key FROM platform.tenants t JOIN platform.partners p ON p.id = t.partner_id
                WHERE t.id = \(tenantID) AND p.llm IS NOT NULL
                """),
            let provider = try? JSONDecoder().decode(LLMProvider.self, from: Data(row.0.utf8))
        else { return nil }
        return (provider, row.1)
    }
}

/// A bot's model as it stands: its settings, its sealed key, and the model its agency gives.
struct BotModelState: Sendable {
    let bot: Bot
    let sealedKey: String?
    let agency: (provider: LLMProvider, sealedKey: String?)?
}

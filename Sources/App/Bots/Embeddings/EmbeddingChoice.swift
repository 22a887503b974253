import Foundation
import PostgresNIO

/// Which model embeds a shop's knowledge and its shoppers' messages: the installation's, or the provider its first bot
/// answers with (the bot's own, or its agency's when the bot follows the agency) when that provider's settings say
/// `embeddings: provider`. Knowledge belongs to the shop and its bots share it, so the first bot's model decides for all.
public enum EmbeddingChoice: Sendable, Hashable {
    case installation
    /// The provider and its key, still sealed.
    case provider(LLMProvider, sealedKey: String?)

    /// The choice a bot's settings make: its own provider (`own`), its agency's (`partner`), the installation's (`off`,
    /// or a provider whose embeddings stay local).
    static func resolve(bot: LLMSettings, botKey: String?, agency: LLMProvider?, agencyKey: String?) -> EmbeddingChoice {
        let (provider, key): (LLMProvider?, String?) =
            switch bot.mode {
            case .own: (bot.provider, botKey)
            case .partner: (agency, agencyKey)
            case .off: (nil, nil)
            }
        guard let provider, provider.embeddings == .provider, ProviderEmbeddings.offered(by: provider.kind) else { return .installation }
        return .provider(provider, sealedKey: key)
    }

    /// The shop's choice, read in one statement: its first bot's settings and key, its agency's provider and key.
    static func load(on tenant: TenantConnection) async throws -> EmbeddingChoice {
        guard
            let row = try await tenant.value(
                (String, String?, String?, String?).self,
                """
                SELECT b.llm::text, b.llm_key, p.llm::text, p.llm_key
                FROM (SELECT llm, llm_key FROM bots ORDER BY id LIMIT 1) b
                LEFT JOIN platform.tenants t ON t.id = \(tenant.scope.id)
                LEFT JOIN platform.partners p ON p.id = t.partner_id
                """)
        else { return .installation }
        let agency = row.2.flatMap { try? JSONDecoder().decode(LLMProvider.self, from: Data($0.utf8)) }
        return resolve(bot: LLMSettings(json: row.0), botKey: row.1, agency: agency, agencyKey: row.3)
    }
}

/// The providers' embeddings: which providers offer them, their default models, the id stored beside their vectors,
/// and the check of the settings.
enum ProviderEmbeddings {
    static let openAIDefault = "text-embedding-3-small"
    /// YandexGPT's pair: `text-search-doc` for passages, `text-search-query` for queries.
    static let yandexDefault = "text-search"

    /// GigaChat's embeddings are not wired here: its shops keep the installation's model.
    static func offered(by kind: LLMProvider.Kind) -> Bool { kind != .gigachat }

    /// The embedding model the provider is asked for.
    static func model(of provider: LLMProvider) -> String {
        let named = provider.embeddingModel?.trimmingCharacters(in: .whitespaces)
        if let named, !named.isEmpty { return named }
        return provider.kind == .yandexgpt ? yandexDefault : openAIDefault
    }

    /// `openai/text-embedding-3-small`, `yandex/text-search`: stored beside each vector, so vectors of different
    /// models (the installation's has no prefix) are never compared.
    static func modelID(of provider: LLMProvider) -> String {
        modelID(kind: provider.kind, model: model(of: provider))
    }

    static func modelID(kind: LLMProvider.Kind, model: String) -> String {
        (kind == .yandexgpt ? "yandex/" : kind.rawValue + "/") + model
    }

    /// YandexGPT's folder: the setting, or the one in a full `gpt://<folder>/…` model URI.
    static func folder(of provider: LLMProvider) -> String? {
        if let folder = provider.folderID, !folder.isEmpty { return folder }
        guard provider.model.hasPrefix("gpt://") else { return nil }
        return provider.model.dropFirst("gpt://".count).split(separator: "/").first.map(String.init)
    }

    /// The embeddings' settings as a person can fix them.
    static func check(_ provider: LLMProvider) throws {
        if provider.embeddings == .provider, !offered(by: provider.kind) {
            throw BotSettingsError(
                "llm.embeddings: GigaChat's embeddings are not supported; keep local (the installation's model) or choose another provider."
            )
        }
        guard let named = provider.embeddingModel else { return }
        let model = named.trimmingCharacters(in: .whitespaces)
        guard !model.isEmpty, model.databaseLength <= 200 else {
            throw BotSettingsError("llm.embedding_model: name the embedding model (at most 200 characters).")
        }
        if provider.kind == .yandexgpt, model.range(of: "^[a-z0-9][a-z0-9-]{0,60}$", options: .regularExpression) == nil {
            throw BotSettingsError(
                "llm.embedding_model: for YandexGPT, name the pair, e.g. text-search (its text-search-doc and text-search-query models).")
        }
    }
}

import Foundation
import Hummingbird

/// A bot's language model as the API shows it: never the key, only whether there is one; never the CA bundle (a file
/// on the server, the operator's).
struct BotLLMJSON: Encodable {
    let settings: LLMSettings
    let keySet: Bool

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(settings.mode.rawValue, forKey: JSONKey("mode"))
        if let provider = settings.provider {
            var object = container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("provider"))
            try object.encode(provider.kind.rawValue, forKey: JSONKey("kind"))
            try object.encode(provider.baseURL, forKey: JSONKey("base_url"))
            try object.encode(provider.model, forKey: JSONKey("model"))
            try object.encode(provider.folderID, forKey: JSONKey("folder_id"))
            try object.encode(provider.temperature, forKey: JSONKey("temperature"))
            try object.encode(provider.maxTokens, forKey: JSONKey("max_tokens"))
            try object.encode(provider.timeoutSeconds, forKey: JSONKey("timeout"))
            try object.encode(provider.embeddings.rawValue, forKey: JSONKey("embeddings"))
            try object.encode(provider.embeddingModel, forKey: JSONKey("embedding_model"))
        } else {
            try container.encodeNil(forKey: JSONKey("provider"))
        }
        try container.encode(keySet, forKey: JSONKey("key_set"))
        try container.encode(settings.instructions, forKey: JSONKey("instructions"))
        try container.encode(settings.onUncited.rawValue, forKey: JSONKey("on_uncited"))
    }
}

/// `llm` in `PUT /api/v1/bot`'s body (and the body of `POST …/llm/test`): any of the fields; `provider: null` and
/// `api_key: null` remove them. `ca_bundle` is the operator's and is refused.
struct BotLLMChange: Decodable, Sendable {
    /// Where `null` means something (no provider, the kind's default, no key); anywhere else it is refused.
    static let nullable: Set<String> = ["provider", "provider.folder_id", "provider.embedding_model", "api_key"]
    var mode, instructions, onUncited: String?
    var provider: Provider??
    var apiKey: String??
    var unknown: [String] = []

    struct Provider: Sendable {
        var kind, baseURL, model: String?
        var folderID: String??
        var temperature: Double?
        var maxTokens: Int?
        var timeout: Double?
        /// `local` or `provider`; the embedding model (`null`: the provider's default).
        var embeddings: String?
        var embeddingModel: String??
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        unknown = container.unknown(["mode", "provider", "api_key", "instructions", "on_uncited"], prefix: "llm.")
        mode = try container.optional(String.self, "mode")
        instructions = try container.optional(String.self, "instructions")
        onUncited = try container.optional(String.self, "on_uncited")
        apiKey = try container.nullable(String.self, "api_key")
        if container.contains(JSONKey("provider")) {
            if try container.decodeNil(forKey: JSONKey("provider")) {
                provider = .some(nil)
            } else {
                let object = try container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("provider"))
                unknown += object.unknown(
                    ["kind", "base_url", "model", "folder_id", "temperature", "max_tokens", "timeout", "embeddings", "embedding_model"],
                    prefix: "llm.provider.")
                provider = .some(
                    Provider(
                        kind: try object.optional(String.self, "kind"), baseURL: try object.optional(String.self, "base_url"),
                        model: try object.optional(String.self, "model"), folderID: try object.nullable(String.self, "folder_id"),
                        temperature: try object.optional(Double.self, "temperature"),
                        maxTokens: try object.optional(Int.self, "max_tokens"), timeout: try object.optional(Double.self, "timeout"),
                        embeddings: try object.optional(String.self, "embeddings"),
                        embeddingModel: try object.nullable(String.self, "embedding_model")))
            }
        }
    }

    /// The key's fate, or a problem for an empty or too long one.
    func keyChange() throws -> LLMKeyChange {
        guard let apiKey else { return .keep }
        guard let key = apiKey ?? nil else { return .remove }
        if key.isEmpty {
            throw APIError.validation([FieldProblem(field: "llm.api_key", message: "Must not be empty: send null to remove the key.")])
        }
        guard LLMEdit.isUsableKey(key) else {
            throw APIError.validation([
                FieldProblem(field: "llm.api_key", message: "1 to 2000 printable ASCII characters, without spaces.")
            ])
        }
        return .set(key)
    }

    /// The settings the change asks for over `stored`, or a 422 naming every field refused.
    func settings(over stored: LLMSettings, endpoints: LLMEndpointPolicy) throws -> LLMSettings {
        var settings = stored
        var problems: [FieldProblem] = []
        if let mode {
            if let value = LLMSettings.Mode(rawValue: mode) {
                settings.mode = value
            } else {
                problems.append(FieldProblem(field: "llm.mode", message: "Must be partner, own or off."))
            }
        }
        if let onUncited {
            if let value = LLMSettings.Uncited(rawValue: onUncited) {
                settings.onUncited = value
            } else {
                problems.append(FieldProblem(field: "llm.on_uncited", message: "Must be fallback or handoff."))
            }
        }
        if let raw = instructions {
            let instructions = raw.apiText
            // The length as sent (the document's maxLength), before trimming.
            if raw.databaseLength > 4000 { problems.append(FieldProblem(field: "llm.instructions", message: "At most 4000 characters.")) }
            settings.instructions = instructions
        }
        if let provider {
            if let provider {
                do {
                    settings.provider = try Self.provider(provider, over: stored.provider, endpoints: endpoints)
                } catch let refused as Refused {
                    problems.append(refused.problem)
                }
            } else {
                settings.provider = nil
            }
        }
        if problems.isEmpty, settings.mode == .own, settings.provider == nil {
            problems.append(FieldProblem(field: "llm.provider", message: "Required for the bot's own model."))
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
        return settings
    }

    /// The provider given over the stored one (whose fields stay while the kind does), checked.
    static func provider(_ change: Provider, over stored: LLMProvider?, endpoints: LLMEndpointPolicy) throws -> LLMProvider {
        let kindName = change.kind ?? stored?.kind.rawValue
        guard let kindName, let kind = LLMProvider.Kind(rawValue: kindName) else {
            throw Refused(problem: FieldProblem(field: "llm.provider.kind", message: "Must be openai, yandexgpt or gigachat."))
        }
        var provider = stored.flatMap { $0.kind == kind ? $0 : nil } ?? LLMProvider(kind: kind, model: "")
        if let baseURL = change.baseURL?.apiText { provider.baseURL = baseURL.isEmpty ? LLMProvider.defaultBaseURL(kind) : baseURL }
        if let model = change.model?.apiText { provider.model = model }
        if let folderID = change.folderID { provider.folderID = folderID?.apiText.isEmpty == false ? folderID?.apiText : nil }
        if let temperature = change.temperature { provider.temperature = temperature }
        if let maxTokens = change.maxTokens { provider.maxTokens = maxTokens }
        if let timeout = change.timeout { provider.timeoutSeconds = timeout }
        if let embeddings = change.embeddings {
            guard let source = LLMProvider.EmbeddingsSource(rawValue: embeddings) else {
                throw Refused(problem: FieldProblem(field: "llm.provider.embeddings", message: "Must be local or provider."))
            }
            provider.embeddings = source
        }
        if let embeddingModel = change.embeddingModel {
            if let raw = embeddingModel, raw.databaseLength > 200 {
                throw Refused(problem: FieldProblem(field: "llm.provider.embedding_model", message: "At most 200 characters."))
            }
            provider.embeddingModel = embeddingModel?.apiText
        }
        provider = LLMEdit.merged(provider, over: stored)
        do {
            try LLMProvider.check(provider)
        } catch let error as BotSettingsError {
            let (field, sentence) = LLMEdit.field(of: error)
            throw Refused(
                problem: FieldProblem(field: "llm.provider." + field, message: sentence.prefix(1).uppercased() + sentence.dropFirst()))
        }
        guard LLMEdit.allowed(provider, stored: stored, endpoints: endpoints) else {
            throw Refused(
                problem: FieldProblem(
                    field: "llm.provider.base_url",
                    message: "This address is on the server's own network; use the provider's public address."))
        }
        return provider
    }
}

/// A field the provider's check refused.
struct Refused: Error {
    let problem: FieldProblem
}

/// What the bot API needs to change a bot's model: its key sealed, the endpoint policy, the store.
struct BotModelAPI: Sendable {
    let store = BotModelStore()
    let secrets: SecretBox
    let endpoints: LLMEndpointPolicy

    /// The refusal of a model address whose host name leads to the server's own network.
    static func inside(_ field: String = "llm.provider.base_url") -> APIError {
        APIError.validation([FieldProblem(field: field, message: LLMEndpointPolicy.insideSentence)])
    }

    /// Applies `change` to `bot` and writes its settings and key in the caller's transaction, with an audit entry.
    func apply(
        _ change: BotLLMChange, to bot: inout Bot, context: APIRequestContext, auditLog: AuditLog, on connection: TenantConnection
    )
        async throws
    {
        let key = try change.keyChange()
        let settings = try change.settings(over: bot.llm, endpoints: endpoints)
        let stored = try await store.sealedKey(botID: bot.id, lock: true, on: connection)
        let sealed: String?
        do {
            sealed = try LLMEdit.sealedKey(
                key, stored: stored, provider: settings.provider, storedProvider: bot.llm.provider, secrets: secrets)
        } catch let error as BotSettingsError where error == LLMEdit.retypeKey {
            throw APIError.validation([Self.retypeKey])
        }
        guard try await store.write(botID: bot.id, settings, sealedKey: sealed, on: connection) else { throw BotAPIAccess.noBot }
        let details = LLMEdit.changes(from: bot.llm, to: settings, key: stored == nil && sealed == nil ? .keep : key)
        try await auditLog.record(context.audit("bot.model_changed", target: bot.slug, details: details), on: connection)
        bot.llm = settings
    }

    static let retypeKey = FieldProblem(
        field: "llm.api_key", message: "The provider or its address changed: send the key again, or null to remove it.")
}

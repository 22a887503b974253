import Foundation

/// An agency's language model as the API shows it (`GET /api/v1/partner/llm`): the provider in the shape of a bot's
/// `llm.provider`, or `null` when the agency gives none, and whether a key is stored. Never the key, never the CA
/// bundle (a file on the server, the operator's).
struct PartnerLLMJSON: Encodable {
    let provider: LLMProvider?
    let keySet: Bool

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        if let provider {
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
    }
}

/// The body of `PUT /api/v1/partner/llm` (and of `POST …/llm/test`): `provider` (`null`: the agency gives none) and
/// `api_key` (`null` removes it), each optional. The fields are a bot's `llm.provider` and `llm.api_key`, read by the
/// bot API's rules (`BotLLMChange`), so the two cannot drift apart; problems name them without the `llm.` prefix.
struct PartnerLLMChange: Decodable, Sendable {
    var change = BotLLMChange()
    var unknown: [String] = []

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        unknown = container.unknown(["provider", "api_key"])
        change = try BotLLMChange(from: decoder)
        unknown += change.unknown.filter { $0.hasPrefix("llm.provider.") }.map { String($0.dropFirst(4)) }
    }

    /// The key's fate, or a problem for an empty or too long one.
    func keyChange() throws -> LLMKeyChange {
        try Self.unprefixed { try change.keyChange() }
    }

    /// The provider the body asks for over `stored` (absent: the stored one; `null`: none), checked as the panel
    /// checks it, with the installation's policy on private addresses.
    func provider(over stored: LLMProvider?, endpoints: LLMEndpointPolicy) throws -> LLMProvider? {
        guard let given = change.provider else { return stored }
        guard let given else { return nil }
        do {
            return try BotLLMChange.provider(given, over: stored, endpoints: endpoints)
        } catch let refused as Refused {
            throw APIError.validation([Self.unprefixed(refused.problem)])
        }
    }

    static let retypeKey = unprefixed(BotModelAPI.retypeKey)

    static func unprefixed(_ problem: FieldProblem) -> FieldProblem {
        problem.field.hasPrefix("llm.") ? FieldProblem(field: String(problem.field.dropFirst(4)), message: problem.message) : problem
    }

    /// Runs `body`, its field problems renamed without `llm.`.
    static func unprefixed<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var error as APIError {
            error.errors = error.errors.map(unprefixed)
            throw error
        }
    }
}

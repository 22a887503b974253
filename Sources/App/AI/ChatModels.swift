import AsyncHTTPClient
import Crypto
import Foundation
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Makes the chat model a provider's settings describe, ready for shoppers: the provider's client (kept per provider
/// and key, so that GigaChat's token outlives a call), behind retries of transient failures and a circuit breaker per
/// shop and provider. Built once by the composition root; a service of the app's group, so that the clients it made
/// for extra CA bundles shut down with the app.
public final class ChatModels: Service {
    /// How hard the models try and when they stop trying.
    public struct Policy: Sendable {
        /// The wait before each retry of a transient failure (as many retries as waits).
        public var backoff: [Duration]
        /// Failures in a row that open a circuit, and for how long (seconds) it stays open.
        public var failuresToOpen: Int
        public var openFor: TimeInterval
        /// The most clients kept (the least recently used go first).
        public var clients: Int

        public init(
            backoff: [Duration] = [.milliseconds(250), .seconds(1)], failuresToOpen: Int = 5, openFor: TimeInterval = 60,
            clients: Int = 1_000
        ) {
            self.backoff = backoff
            self.failuresToOpen = failuresToOpen
            self.openFor = openFor
            self.clients = clients
        }
    }

    private struct CacheKey: Hashable {
        var provider: LLMProvider
        var keyDigest: String
    }

    private struct State {
        var models: [CacheKey: (model: any ChatModel, used: UInt64)] = [:]
        var uses: UInt64 = 0
        /// Clients that trust a CA bundle besides the system's roots, by the bundle's path.
        var trusting: [String: HTTPClient] = [:]
        var shutDown = false
    }

    private let client: HTTPClient
    private let clock: WallClock
    private let policy: Policy
    private let breakers: CircuitBreakers
    private let state = Mutex(State())

    /// `client` is the app's shared one; `clock` times the circuit breakers and GigaChat's tokens.
    public init(client: HTTPClient, clock: WallClock = .system, policy: Policy = Policy()) {
        self.client = client
        self.clock = clock
        self.policy = policy
        breakers = CircuitBreakers(threshold: policy.failuresToOpen, openFor: policy.openFor, clock: clock)
    }

    /// The model for `provider` called with `key`, its failures counted in the circuit `circuit`
    /// (`"<shop id>/<provider name>"`), each call within `provider.timeoutSeconds` (or the caller's deadline, when
    /// sooner). Throws `.unavailable` when the provider's CA bundle cannot be read.
    public func model(for provider: LLMProvider, key: String, circuit: String) throws -> any ChatModel {
        ResilientChatModel(
            model: try providerModel(for: provider, key: key), circuit: circuit, breakers: breakers, backoff: policy.backoff,
            timeout: .milliseconds(Int64(max(0.1, provider.timeoutSeconds) * 1000)))
    }

    /// The provider's own client, made once per provider and key.
    func providerModel(for provider: LLMProvider, key: String) throws -> any ChatModel {
        let digest = SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
        let cacheKey = CacheKey(provider: provider, keyDigest: digest)
        return try state.withLock { state in
            state.uses += 1
            if let cached = state.models[cacheKey] {
                state.models[cacheKey]?.used = state.uses
                return cached.model
            }
            let http = try provider.caBundle.map { try trusting($0, state: &state) } ?? client
            let model: any ChatModel =
                switch provider.kind {
                case .openai: OpenAIChatModel(client: http, provider: provider, key: key)
                case .yandexgpt: YandexGPTChatModel(client: http, provider: provider, key: key)
                case .gigachat: GigaChatModel(client: http, provider: provider, key: key, clock: clock)
                }
            state.models[cacheKey] = (model, state.uses)
            if state.models.count > max(1, policy.clients), let oldest = state.models.min(by: { $0.value.used < $1.value.used }) {
                state.models[oldest.key] = nil
            }
            return model
        }
    }

    /// A client that trusts the system's roots and the certificates in the PEM file at `path`, made once per path.
    private func trusting(_ path: String, state: inout State) throws -> HTTPClient {
        if let client = state.trusting[path] { return client }
        guard !state.shutDown else { throw ChatModelError.unavailable("the app is shutting down") }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw ChatModelError.unavailable("the CA bundle \(path) cannot be read")
        }
        guard !certificates.isEmpty else { throw ChatModelError.unavailable("the CA bundle \(path) holds no certificate") }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.certificates(certificates)]
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        state.trusting[path] = client
        return client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Shuts down the clients made for CA bundles (the shared one belongs to the app).
    public func shutdown() async throws {
        let clients = state.withLock { state in
            state.shutDown = true
            state.models = [:]
            defer { state.trusting = [:] }
            return Array(state.trusting.values)
        }
        for client in clients { try await client.shutdown() }
    }
}

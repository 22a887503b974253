import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import App

extension TestEnvironment {
    /// Runs `body` against the full application (router test client) on this environment's database.
    /// The app gets its own pool (a `PostgresClient` runs once, and the app's service group runs it).
    func withApp<T: Sendable>(
        logger: Logger = TestDatabase.logger, configure: (inout AppConfiguration) -> Void = { _ in }, embeddings: EmbeddingsEndpoint? = nil,
        _ body: @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let database = try Database(url: url, poolSize: 16, logger: logger)
        var configuration = services.configuration
        configure(&configuration)
        let appServices = try await AppServices.make(
            configuration: configuration, database: database, logger: logger, clock: services.clock,
            resolver: services.domains.verifier.resolver, embeddings: embeddings, modelHosts: services.modelHosts)
        let app = try await buildApplication(appServices, metrics: TestMetrics.registry)
        return try await app.test(.router) { client in try await body(client) }
    }
}

extension TestEnvironment {
    /// Like `withApp`, but the application listens on a loopback port (for checks that make real HTTP requests to it).
    func withLiveApp<T: Sendable>(_ body: @Sendable (any TestClientProtocol, Int) async throws -> T) async throws -> T {
        let database = try Database(url: url, poolSize: 16, logger: TestDatabase.logger)
        var configuration = services.configuration
        configuration.port = 0
        let appServices = try await AppServices.make(
            configuration: configuration, database: database, logger: TestDatabase.logger, clock: services.clock,
            resolver: services.domains.verifier.resolver, modelHosts: services.modelHosts)
        let app = try await buildApplication(appServices, metrics: TestMetrics.registry)
        return try await app.test(.live) { client in try await body(client, try #require(client.port)) }
    }
}

extension TestClientProtocol {
    /// GET `path` as if sent to `host` (through a trusted proxy's `X-Forwarded-Host`).
    func get(_ path: String, host: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[HTTPField.Name("X-Forwarded-Host")!] = host
        return try await execute(uri: path, method: .get, headers: fields)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}

/// swift-metrics can be bootstrapped once per process: every app in the tests shares this registry.
enum TestMetrics {
    static let registry = Observability.bootstrapMetrics()
}

/// Deterministic help articles with markers, as in the benchmark workload.
func markedArticles(tenant: String, count: Int, titlePrefix: String = "") -> [HelpArticle] {
    (1...count).map { j in
        HelpArticle(
            slug: "article-\(j)", title: "\(titlePrefix)[\(tenant)#\(j)] Question \(j)",
            body: "Answer \(j) for \(tenant).\n\nSecond paragraph.", position: j)
    }
}

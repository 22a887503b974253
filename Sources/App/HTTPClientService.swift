import AsyncHTTPClient
import NIOPosix
import ServiceLifecycle

/// The one outbound HTTP client (domain checks today; channels, LLMs and marketplaces later), a service of the app's
/// group that shuts down with it. It never follows a redirect: a server-to-server call that gets one is refused, so
/// nothing can bounce a request of ours to an address we did not choose. A connection that cannot be made (refused, an
/// untrusted certificate) fails the request at once with its reason instead of being tried again until the deadline:
/// each caller retries as suits it (the chat models' backoff, the job queue's).
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init() {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

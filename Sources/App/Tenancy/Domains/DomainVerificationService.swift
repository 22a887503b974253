import Logging
import ServiceLifecycle

/// Checks unverified custom domains every few minutes, so a domain goes live soon after its DNS records appear
/// without anyone pressing "check now".
public struct DomainVerificationService: Service {
    let store: DomainStore
    let interval: Duration
    let logger: Logger

    public init(store: DomainStore, interval: Duration, logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await store.verifyPending(interval: interval)
            } catch {
                logger.warning("Domain checks failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

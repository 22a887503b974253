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
        // The first round waits one interval: at start-up the migrations may still be running.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isCancelled && !Task.isShuttingDownGracefully else { return }
            do {
                try await store.verifyPending(interval: interval)
            } catch {
                logger.warning("Domain checks failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}

import Logging
import ServiceLifecycle

/// Work that repeats on an interval (domain checks, sweeps, the directory's backstop reload), as a service of the
/// app's group. Every periodic thing goes through here, so they all stop the same way: at graceful shutdown the
/// wait ends at once and a round in progress finishes. A failed round is logged and the next one runs on time.
public struct PeriodicTask: Service {
    let name: String
    let interval: Duration
    /// Whether the first round waits one interval (at start-up the migrations may still be running).
    let waitFirst: Bool
    let logger: Logger
    let work: @Sendable () async throws -> Void

    public init(
        _ name: String, every interval: Duration, waitFirst: Bool = true, logger: Logger,
        _ work: @escaping @Sendable () async throws -> Void
    ) {
        self.name = name
        self.interval = interval
        self.waitFirst = waitFirst
        self.logger = logger
        self.work = work
    }

    public func run() async throws {
        if !waitFirst { await round() }
        await Periodic.run(every: interval) { await round() }
    }

    func round() async {
        do {
            try await work()
        } catch {
            logger.warning("\(name) failed", metadata: ["error": "\(databaseMessage(error))"])
        }
    }
}

/// The one loop of periodic work.
enum Periodic {
    /// Waits `interval`, runs `body`, and again, until the task is cancelled or the service group shuts down.
    static func run(every interval: Duration, _ body: @Sendable () async -> Void) async {
        while !Task.isCancelledOrShuttingDown {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            guard !Task.isCancelledOrShuttingDown else { return }
            await body()
        }
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}

import Foundation
import Logging
import ServiceLifecycle

/// Keeps the tenant directory fresh: `LISTEN vitrina_directory` on a dedicated connection (changes made by any
/// process arrive within milliseconds), plus a periodic full reload as a backstop for a missed notification.
public struct DirectoryRefresher: Service {
    public static let channel = "vitrina_directory"

    let directory: TenantDirectory
    let database: Database
    let interval: Duration
    let logger: Logger

    public init(directory: TenantDirectory, database: Database, interval: Duration, logger: Logger) {
        self.directory = directory
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Reload requests collapse into one while a reload runs: a burst of 1,000 changes costs one or two reloads.
        let (requests, requester) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Listener(database: database, channel: Self.channel, logger: logger).run { _ in requester.yield("notified") }
            }
            group.addTask { await Periodic.run(every: interval) { requester.yield("periodic") } }
            group.addTask {
                for await reason in requests.cancelOnGracefulShutdown() { await reload(reason: reason) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func reload(reason: String) async {
        // Until the server has loaded the directory itself (after migrations), there is nothing to refresh.
        guard directory.snapshot.isLoaded else { return }
        do {
            try await directory.reload()
        } catch {
            logger.error("Reloading the tenant directory failed", metadata: ["reason": "\(reason)", "error": "\(databaseMessage(error))"])
        }
    }
}

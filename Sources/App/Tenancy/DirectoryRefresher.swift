import Foundation
import Logging
import PostgresNIO
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
            group.addTask { await listenForever(requester) }
            group.addTask { await requestPeriodically(requester) }
            group.addTask {
                for await reason in requests.cancelOnGracefulShutdown() { await reload(reason: reason) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func requestPeriodically(_ requester: AsyncStream<String>.Continuation) async {
        while !Task.isCancelledOrShuttingDown {
            do { try await Task.sleep(for: interval) } catch { return }
            requester.yield("periodic")
        }
    }

    private func listenForever(_ requester: AsyncStream<String>.Continuation) async {
        var backoff: Duration = .milliseconds(250)
        while !Task.isCancelledOrShuttingDown {
            do {
                let connection = try await database.connect()
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        // Anything that changed while we were not listening is picked up by this reload.
                        requester.yield("listening")
                        backoff = .milliseconds(250)
                        for try await _ in notifications.cancelOnGracefulShutdown() {
                            requester.yield("notified")
                        }
                    }
                    try? await connection.close()
                } catch {
                    try? await connection.close()
                    throw error
                }
            } catch {
                if Task.isCancelledOrShuttingDown { return }
                logger.warning("Directory listener lost its connection; retrying", metadata: ["error": "\(databaseMessage(error))"])
            }
            do { try await Task.sleep(for: backoff) } catch { return }
            backoff = min(backoff * 2, .seconds(10))
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

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}

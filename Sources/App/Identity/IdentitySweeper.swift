import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Deletes what has expired: sessions, old login failures, one-time tokens a week past their end, old mail. Every process runs
/// it; the statements are idempotent.
public struct IdentitySweeper: Service {
    let sessions: SessionStore
    let client: PostgresClient
    let interval: Duration
    let logger: Logger

    public init(sessions: SessionStore, client: PostgresClient, interval: Duration = .seconds(600), logger: Logger) {
        self.sessions = sessions
        self.client = client
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            do {
                try await sweep()
            } catch {
                logger.warning("Sweeping expired sessions failed", metadata: ["error": "\(databaseMessage(error))"])
            }
        }
    }

    public func sweep() async throws {
        try await sessions.purgeExpired()
        try await client.query(
            "DELETE FROM platform.login_failures WHERE last_failure_at < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())",
            logger: logger)
        try await client.query("DELETE FROM platform.one_time_tokens WHERE expires_at < now() - interval '7 days'", logger: logger)
        // Mail older than the longest token lifetime carries no live link; it goes (queued mail stays until sent).
        try await client.query(
            "DELETE FROM platform.outbox WHERE status <> 'queued' AND created_at < now() - interval '8 days'", logger: logger)
    }
}

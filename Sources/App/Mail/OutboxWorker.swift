import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Sends queued mail over SMTP. Several server processes can run it: each claims a batch with `FOR UPDATE SKIP
/// LOCKED`. A failed message is retried with growing delays; a permanent refusal (5xx) or ten failures end it.
public struct OutboxWorker: Service {
    let client: PostgresClient
    let smtp: SMTPClient
    let interval: Duration
    let logger: Logger
    static let maximumAttempts = 10

    public init(client: PostgresClient, smtp: SMTPClient, interval: Duration = .seconds(2), logger: Logger) {
        self.client = client
        self.smtp = smtp
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            do {
                while try await sendBatch() > 0 {}
            } catch {
                logger.error("Outbox: could not read the queue", metadata: ["error": "\(databaseMessage(error))"])
            }
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
        }
    }

    /// Sends up to ten due messages, each in its own transaction (a failure after one send never re-sends the others);
    /// returns how many it tried.
    @discardableResult
    public func sendBatch() async throws -> Int {
        var tried = 0
        while tried < 10, try await sendOne() {
            tried += 1
        }
        return tried
    }

    /// Claims one due message (skipping any another process holds), sends it and records the outcome. A message that
    /// is sent or given up on loses its body: the links in it (invitations, resets) must not outlive their use.
    private func sendOne() async throws -> Bool {
        try await client.platformTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT id::int, to_address, subject, text_body, html_body, attempts, from_name, from_address FROM platform.outbox
                WHERE status = 'queued' AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var due: (Int, String, String, String, String?, Int, String?, String?)?
            for try await row in rows.decode((Int, String, String, String, String?, Int, String?, String?).self) { due = row }
            guard let (id, to, subject, text, html, attempts, fromName, fromAddress) = due else { return false }
            // The brand's sender name (and address when it has one): mail never shows the platform's own name.
            let from = MailAddress(fromAddress ?? smtp.configuration.from.email, name: fromName ?? smtp.configuration.from.name)
            let message = MailMessage(from: from, to: [MailAddress(to)], subject: subject, text: text, html: html, messageID: nil)
            do {
                try await smtp.send(message)
                try await connection.query(
                    """
                    UPDATE platform.outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL,
                        text_body = '', html_body = NULL
                    WHERE id = \(id)
                    """, logger: logger)
                logger.info("Outbox: sent", metadata: ["outbox_id": "\(id)", "to": "\(to)"])
            } catch {
                let permanent = (error as? SMTPError)?.isPermanent ?? false
                let failed = permanent || attempts + 1 >= Self.maximumAttempts
                let delay = Double(min(3600, 30 * (1 << min(attempts, 7))))
                try await connection.query(
                    """
                    UPDATE platform.outbox SET attempts = attempts + 1, last_error = \(String(describing: error)),
                        status = \(failed ? "failed" : "queued"), next_attempt_at = now() + make_interval(secs => \(delay)),
                        text_body = CASE WHEN \(failed) THEN '' ELSE text_body END,
                        html_body = CASE WHEN \(failed) THEN NULL ELSE html_body END
                    WHERE id = \(id)
                    """, logger: logger)
                logger.warning("Outbox: sending failed", metadata: ["outbox_id": "\(id)", "error": "\(error)", "gave_up": "\(failed)"])
            }
            return true
        }
    }
}

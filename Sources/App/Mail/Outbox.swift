import Foundation
import Logging
import PostgresNIO

/// A message waiting in (or gone from) the outbox.
public struct OutboxMessage: Sendable, RowDecodable {
    public var id: Int
    public var to: String
    public var subject: String
    public var text: String
    public var html: String?
    public var status: String
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date
    public var sentAt: Date?
    public var fromName: String?
    public var fromAddress: String?

    static let columns =
        "id::int, to_address, subject, text_body, html_body, status, attempts, last_error, created_at, sent_at, from_name, from_address"

    public init(row: PostgresRow) throws {
        (id, to, subject, text, html, status, attempts, lastError, createdAt, sentAt, fromName, fromAddress) = try row.decode(
            (Int, String, String, String, String?, String, Int, String?, Date, Date?, String?, String?).self)
    }
}

/// A composed e-mail, before it is queued.
public struct OutgoingMail: Sendable {
    public var to: String
    public var subject: String
    public var text: String
    public var html: String?
    public var partnerID: UUID?
    public var tenantID: UUID?
    /// The sender as the brand names it (else the SMTP configuration's).
    public var fromName: String?
    public var fromAddress: String?

    public init(
        to: String, subject: String, text: String, html: String?, partnerID: UUID? = nil, tenantID: UUID? = nil, branding: Branding? = nil
    ) {
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.partnerID = partnerID
        self.tenantID = tenantID
        fromName = branding.flatMap { $0.emailFromName ?? $0.name }
        fromAddress = branding?.emailFromAddress
    }
}

/// The job that sends one outbox message.
public struct SendMail: JobKind {
    public static let kind = "mail.send"
    public let outboxID: Int

    enum CodingKeys: String, CodingKey { case outboxID = "outbox_id" }
}

/// Mail goes through a table: written in the same transaction as what caused it, with the job that sends it
/// (`MailSender`). With no SMTP server configured a message is marked `logged`: it is written to the log and listed
/// on the platform's Outbox page, so invitations and resets work in development.
public struct Outbox: Sendable {
    let database: Database
    let queue: JobQueue
    /// Whether an SMTP server is configured (else messages are only logged).
    let delivers: Bool
    let logger: Logger

    public init(database: Database, queue: JobQueue, delivers: Bool, logger: Logger) {
        self.database = database
        self.queue = queue
        self.delivers = delivers
        self.logger = logger
    }

    /// Queues a message and its sending job, on `runner` when they must commit with the caller's change; returns its id.
    @discardableResult
    public func enqueue(_ mail: OutgoingMail, on runner: (any QueryRunner)? = nil) async throws -> Int {
        let runner = runner ?? database
        let status = delivers ? "queued" : "logged"
        let id =
            try await runner.value(
                Int.self,
                """
                INSERT INTO platform.outbox (partner_id, tenant_id, to_address, subject, text_body, html_body, status, from_name, from_address)
                VALUES (\(mail.partnerID), \(mail.tenantID), \(mail.to), \(mail.subject), \(mail.text), \(mail.html), \(status),
                    \(mail.fromName), \(mail.fromAddress))
                RETURNING id::int
                """) ?? 0
        if delivers {
            // Mail is platform work: it goes out whatever becomes of the shop it is about.
            try await queue.enqueue(SendMail(outboxID: id), maxAttempts: MailSender.maximumAttempts, on: runner)
        } else {
            logger.notice(
                "E-mail not sent (no VITRINA_SMTP_URL); it is on the platform panel's Outbox page",
                metadata: ["outbox_id": "\(id)", "to": "\(mail.to)", "subject": "\(mail.subject)", "text": "\(mail.text)"])
        }
        return id
    }

    /// One page of messages, newest first, and the total.
    public func list(page: Int, perPage: Int = 50) async throws -> (messages: [OutboxMessage], total: Int) {
        let offset = (max(page, 1) - 1) * perPage
        let messages = try await database.all(
            OutboxMessage.self,
            """
            SELECT id::int, to_address, subject, '', NULL::text, status, attempts, last_error, created_at, sent_at, from_name, from_address
            FROM platform.outbox ORDER BY id DESC LIMIT \(perPage) OFFSET \(offset)
            """)
        let total = try await database.value(Int.self, "SELECT count(*)::int FROM platform.outbox") ?? 0
        return (messages, total)
    }

    public func message(id: Int) async throws -> OutboxMessage? {
        try await database.first(
            OutboxMessage.self, "SELECT \(unescaped: OutboxMessage.columns) FROM platform.outbox WHERE id = \(id)")
    }

    /// Mail older than the longest token lifetime carries no live link; it goes (queued mail stays until sent).
    public func purgeOld() async throws {
        try await database.execute("DELETE FROM platform.outbox WHERE status <> 'queued' AND created_at < now() - interval '8 days'")
    }

    /// A message waiting to be sent.
    func queued(id: Int) async throws -> OutboxMessage? {
        try await database.first(
            OutboxMessage.self, "SELECT \(unescaped: OutboxMessage.columns) FROM platform.outbox WHERE id = \(id) AND status = 'queued'")
    }

    /// Sent: the body goes, since the links in it (invitations, resets) must not outlive their use.
    func markSent(id: Int) async throws {
        try await database.execute(
            """
            UPDATE platform.outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL,
                text_body = '', html_body = NULL
            WHERE id = \(id)
            """)
    }

    /// A failed attempt; `final` ends the message (and drops its body).
    func markFailed(id: Int, error: String, final: Bool) async throws {
        try await database.execute(
            """
            UPDATE platform.outbox SET attempts = attempts + 1, last_error = \(String(error.prefix(2000))),
                status = \(final ? "failed" : "queued"),
                text_body = CASE WHEN \(final) THEN '' ELSE text_body END,
                html_body = CASE WHEN \(final) THEN NULL ELSE html_body END
            WHERE id = \(id)
            """)
    }
}

/// Sends one outbox message over SMTP (the `mail.send` job). The queue retries with backoff; a permanent refusal
/// (5xx) or the last attempt ends the message.
public struct MailSender: Sendable {
    static let maximumAttempts = 10
    let outbox: Outbox
    let smtp: SMTPClient

    public init(outbox: Outbox, smtp: SMTPClient) {
        self.outbox = outbox
        self.smtp = smtp
    }

    func send(_ job: SendMail, context: JobContext) async throws {
        guard let message = try await outbox.queued(id: job.outboxID) else { return }  // sent already, or gone
        // The brand's sender name (and address when it has one): mail never shows the platform's own name.
        let from = MailAddress(message.fromAddress ?? smtp.configuration.from.email, name: message.fromName ?? smtp.configuration.from.name)
        let mail = MailMessage(from: from, to: [MailAddress(message.to)], subject: message.subject, text: message.text, html: message.html)
        do {
            try await smtp.send(mail)
        } catch {
            let permanent = error.isPermanent
            let final = permanent || context.job.isLastAttempt
            try await outbox.markFailed(id: job.outboxID, error: String(describing: error), final: final)
            if permanent { throw JobFailure.permanent(String(describing: error)) }
            throw error
        }
        try await outbox.markSent(id: job.outboxID)
        context.logger.info("Mail sent", metadata: ["outbox_id": "\(job.outboxID)", "to": "\(message.to)"])
    }
}

import Foundation
import Logging
import PostgresNIO

/// A message waiting in (or gone from) the outbox.
public struct OutboxMessage: Sendable {
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

/// Mail goes through a table: written in the same transaction as what caused it, sent later by `OutboxWorker`. With no
/// SMTP server configured a message is marked `logged`: it is written to the log and listed on the platform's
/// Outbox page, so invitations and resets work in development.
public struct Outbox: Sendable {
    let client: PostgresClient
    /// Whether an SMTP server is configured (else messages are only logged).
    let delivers: Bool
    let logger: Logger

    public init(client: PostgresClient, delivers: Bool, logger: Logger) {
        self.client = client
        self.delivers = delivers
        self.logger = logger
    }

    /// Queues a message; returns its id.
    @discardableResult
    public func enqueue(_ mail: OutgoingMail, on connection: some PostgresQueryRunner) async throws -> Int {
        let status = delivers ? "queued" : "logged"
        let rows = try await connection.runQuery(
            """
            INSERT INTO platform.outbox (partner_id, tenant_id, to_address, subject, text_body, html_body, status, from_name, from_address)
            VALUES (\(mail.partnerID), \(mail.tenantID), \(mail.to), \(mail.subject), \(mail.text), \(mail.html), \(status),
                \(mail.fromName), \(mail.fromAddress))
            RETURNING id::int
            """, logger: logger)
        var id = 0
        for try await (value) in rows.decode(Int.self) { id = value }
        if !delivers {
            logger.notice(
                "E-mail not sent (no VITRINA_SMTP_URL); it is on the platform panel's Outbox page",
                metadata: ["outbox_id": "\(id)", "to": "\(mail.to)", "subject": "\(mail.subject)", "text": "\(mail.text)"])
        }
        return id
    }

    public func enqueue(_ mail: OutgoingMail) async throws {
        try await enqueue(mail, on: client)
    }

    /// One page of messages, newest first, and the total.
    public func list(page: Int, perPage: Int = 50) async throws -> (messages: [OutboxMessage], total: Int) {
        let offset = (max(page, 1) - 1) * perPage
        let rows = try await client.query(
            """
            SELECT id::int, to_address, subject, '', NULL::text, status, attempts, last_error, created_at, sent_at,
                count(*) OVER ()::int
            FROM platform.outbox ORDER BY id DESC LIMIT \(perPage) OFFSET \(offset)
            """, logger: logger)
        var messages: [OutboxMessage] = []
        var total = 0
        for try await row in rows.decode((Int, String, String, String, String?, String, Int, String?, Date, Date?, Int).self) {
            messages.append(
                OutboxMessage(
                    id: row.0, to: row.1, subject: row.2, text: row.3, html: row.4, status: row.5, attempts: row.6, lastError: row.7,
                    createdAt: row.8, sentAt: row.9))
            total = row.10
        }
        return (messages, total)
    }

    public func message(id: Int) async throws -> OutboxMessage? {
        let rows = try await client.query(
            """
            SELECT id::int, to_address, subject, text_body, html_body, status, attempts, last_error, created_at, sent_at
            FROM platform.outbox WHERE id = \(id)
            """, logger: logger)
        for try await row in rows.decode((Int, String, String, String, String?, String, Int, String?, Date, Date?).self) {
            return OutboxMessage(
                id: row.0, to: row.1, subject: row.2, text: row.3, html: row.4, status: row.5, attempts: row.6, lastError: row.7,
                createdAt: row.8, sentAt: row.9)
        }
        return nil
    }
}

import Foundation
import Logging

/// Takes what a messenger's webhook understood into the conversations: a shopper's message through
/// `BotEngine.accept` (stored with its answer's job, or its transcription's, in one transaction; a redelivery is a
/// no-op), a delivery report onto our message's state. Everything here is one short transaction: the webhook answers
/// 200 right after it commits.
public struct ChannelIntake: Sendable {
    let engine: BotEngine
    let jobs: JobQueue
    let tenants: TenantDatabase

    public init(engine: BotEngine, jobs: JobQueue, tenants: TenantDatabase) {
        self.engine = engine
        self.jobs = jobs
        self.tenants = tenants
    }

    /// What became of an event, for the caller's log and tests.
    public enum Outcome: Sendable, Equatable {
        case accepted(message: Int, duplicate: Bool)
        case delivery(updated: Bool)
        case ignored
    }

    @discardableResult
    public func take(
        _ event: InboundEvent, from connection: ChannelConnection, in tenant: TenantRecord, logger: Logger
    ) async throws -> Outcome {
        switch event {
        case .message(let inbound):
            let accepted = try await engine.accept(
                shopperMessage(inbound, connection: connection), in: tenant, jobs: jobs, logger: logger)
            // The Channels page's "last message received", written at most once a minute per connection.
            if (connection.lastInboundAt.map { Date().timeIntervalSince($0) > 60 }) ?? true {
                try await tenants.withTenant(tenant, logger: logger) { door in
                    try await door.execute(
                        "UPDATE channel_connections SET last_inbound_at = now() WHERE id = \(connection.id)")
                }
            }
            return .accepted(message: accepted.messageID, duplicate: accepted.duplicate)
        case .delivery(let report):
            return .delivery(updated: try await record(report, channel: connection.kind.conversationChannel, in: tenant, logger: logger))
        case .ignored(let why):
            logger.debug("A webhook's update was ignored", metadata: ["kind": "\(connection.kind.rawValue)", "why": "\(why)"])
            return .ignored
        }
    }

    /// The engine's view of a messenger's message: the shopper by their chat, attachments as parts, a voice note with
    /// no words sent to transcription first.
    func shopperMessage(_ inbound: InboundMessage, connection: ChannelConnection) -> ShopperMessage {
        // Cut by code points, as the columns' checks count (a character may be many: "é" written as e and an accent).
        var message = ShopperMessage(
            text: Self.prefix(inbound.text, 10000), channel: connection.kind.conversationChannel, externalContactID: inbound.chat,
            channelMessageID: inbound.dedupeKey, botID: connection.botID,
            contactName: inbound.contactName.map { Self.prefix($0, 200) }.flatMap { $0.isEmpty ? nil : $0 })
        message.parts = inbound.attachments.map { MessagePart(type: .attachment, title: Self.title(of: $0), attachment: $0) }
        if inbound.voice != nil, inbound.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            message.transcribeWith = connection.id
        }
        return message
    }

    /// The first `count` code points of `text`.
    static func prefix(_ text: String, _ count: Int) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(count)))
    }

    /// How people see an attachment in the inbox: its file name, else its kind (and a voice note's length).
    static func title(of attachment: Attachment) -> String {
        if let name = attachment.name, !name.isEmpty { return String(name.prefix(200)) }
        if let seconds = attachment.seconds, attachment.kind == .voice || attachment.kind == .video || attachment.kind == .audio {
            return attachment.kind.rawValue + " " + String(format: "%d:%02d", seconds / 60, seconds % 60)
        }
        return attachment.kind.rawValue
    }

    /// Moves our message's delivery state forward (a late "delivered" never undoes "read"; "failed" keeps the reason).
    /// A report on an id no message has yet may have overtaken the send's own record: it is kept for that record to
    /// apply (`early_delivery_reports`). One statement when the message is known, the usual case.
    func record(_ report: DeliveryReport, channel: ConversationChannel, in tenant: TenantRecord, logger: Logger) async throws -> Bool {
        let order = ["queued", "sent", "delivered", "read"]
        let error = report.error.map { String(Self.prefix($0, 480)) }
        return try await tenants.withTenant(tenant, logger: logger) { connection in
            /// The message's id if the report moved it, and whether a message has the report's id at all.
            func update() async throws -> (updated: Int?, known: Bool) {
                try await connection.value(
                    (Int?, Bool).self,
                    """
                    WITH updated AS (
                        UPDATE messages SET delivery = \(report.state.rawValue),
                            delivery_error = CASE WHEN \(report.state.rawValue) = 'failed' THEN 'provider: ' || \(error) ELSE delivery_error END
                        WHERE channel = \(channel.rawValue) AND channel_message_id = \(report.channelMessageID) AND author <> 'shopper'
                            AND CASE WHEN \(report.state.rawValue) = 'failed' THEN delivery IS DISTINCT FROM 'read'
                                ELSE coalesce(array_position(\(order)::text[], delivery), 0)
                                    < coalesce(array_position(\(order)::text[], \(report.state.rawValue)::text), 0) END
                        RETURNING id)
                    SELECT (SELECT id::int FROM updated LIMIT 1), EXISTS (SELECT 1 FROM messages
                        WHERE channel = \(channel.rawValue) AND channel_message_id = \(report.channelMessageID))
                    """) ?? (nil, false)
            }
            let first = try await update()
            if first.known { return first.updated != nil }
            // Unknown: perhaps its send is being recorded right now. Once the lock is held that record has committed (and
            // a second look finds the message), or it comes after this commits and applies what is kept here.
            try await Self.lockReports(on: report.channelMessageID, channel: channel, connection: connection)
            let second = try await update()
            if second.known { return second.updated != nil }
            guard report.state != .queued, report.channelMessageID.databaseLength <= 200 else { return false }
            try await connection.execute(
                """
                INSERT INTO early_delivery_reports (channel, channel_message_id, state, error)
                VALUES (\(channel.rawValue), \(report.channelMessageID), \(report.state.rawValue), \(error)) ON CONFLICT DO NOTHING
                """)
            return false
        }
    }

    /// Serialises a report on `id` with the recording of the send that gave `id`, until the transaction ends: without it,
    /// a report whose statement began before the send's record committed, and committed after the record had looked
    /// for early reports, would be kept and never applied. A separate statement, so that the next one sees the other
    /// side's commit.
    static func lockReports(on id: String, channel: ConversationChannel, connection: TenantConnection) async throws {
        try await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || \(channel.rawValue) || ':' || \(id), 0))")
    }

    /// Applies the reports that came before the send of message `id` was recorded (its provider id is now stored):
    /// the furthest of them wins, as if they had come after ("read" over "failed" over "delivered").
    static func applyEarlyReports(toMessage id: Int, on connection: TenantConnection) async throws {
        try await connection.execute(
            """
            WITH early AS (
                DELETE FROM early_delivery_reports e USING messages m
                WHERE m.id = \(id) AND e.channel = m.channel AND e.channel_message_id = m.channel_message_id
                RETURNING e.state, e.error),
            best AS (
                SELECT state, error FROM early
                ORDER BY CASE state WHEN 'read' THEN 4 WHEN 'failed' THEN 3 WHEN 'delivered' THEN 2 ELSE 1 END DESC LIMIT 1)
            UPDATE messages SET delivery = best.state,
                delivery_error = CASE WHEN best.state = 'failed' THEN 'provider: ' || best.error ELSE delivery_error END
            FROM best WHERE messages.id = \(id) AND messages.delivery = 'sent' AND best.state <> 'sent'
            """)
    }
}

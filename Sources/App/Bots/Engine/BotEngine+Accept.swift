import Foundation
import Logging

/// The job that answers a shopper's message `BotEngine.accept` stored.
public struct AnswerMessage: JobKind {
    public static let kind = "bot.answer"
    public var conversation: Int
    public var message: Int

    public init(conversation: Int, message: Int) {
        self.conversation = conversation
        self.message = message
    }
}

/// A shopper's message as `accept` stored it.
public struct AcceptedMessage: Sendable {
    public var conversation: Conversation
    /// The stored message (the one stored before, for a redelivery).
    public var messageID: Int
    public var duplicate: Bool
    /// Whether the bot's answer was queued (the bot has the conversation).
    public var answerQueued: Bool
}

extension BotEngine {
    /// Stores a shopper's message and, when the bot has the conversation, queues its answer (`bot.answer`), in one
    /// transaction, and returns: the channels and the widget acknowledge a message once it is durable, and the answer
    /// follows through the job queue, so a process that dies mid-answer loses nothing (the job runs again). A message
    /// over the month's quota is handed to people at once (no answer to compute).
    public func accept(
        _ message: ShopperMessage, in tenant: TenantRecord, jobs: JobQueue, logger: Logger? = nil
    ) async throws
        -> AcceptedMessage
    {
        let logger = logger ?? self.logger
        return try await tenants.withTenant(tenant, logger: logger) { connection in
            var intake = try await self.intake(message, tenant: tenant, on: connection)
            guard let id = intake.shopperMessageID else {
                let existing = try await connection.value(
                    Int.self,
                    """
                    SELECT id::int FROM messages WHERE channel = \(message.channel.rawValue)
                        AND channel_message_id = \(message.channelMessageID)
                    """)
                return AcceptedMessage(conversation: intake.conversation, messageID: existing ?? 0, duplicate: true, answerQueued: false)
            }
            if let overQuota = intake.overQuota {
                // Over the quota no model is asked: the answer is the hand-off, stored now.
                _ = try await respond(
                    to: id, text: message.text, conversation: &intake.conversation, overQuota: overQuota, query: .lexical,
                    tenant: tenant, on: connection)
                return AcceptedMessage(conversation: intake.conversation, messageID: id, duplicate: false, answerQueued: false)
            }
            if let connectionID = message.transcribeWith {
                // The words come first: the transcription job queues the answer (and people see the text meanwhile).
                try await jobs.enqueue(
                    TranscribeVoice(conversation: intake.conversation.id, message: id, connection: connectionID), tenant: tenant.id,
                    maxAttempts: 4, idempotencyKey: "transcribe:\(tenant.id):\(id)", on: connection)
                return AcceptedMessage(conversation: intake.conversation, messageID: id, duplicate: false, answerQueued: false)
            }
            // A photo with no caption has nothing to answer: people see it in the inbox.
            guard intake.conversation.state.botAnswers, !message.text.allSatisfy(\.isWhitespace) else {
                return AcceptedMessage(conversation: intake.conversation, messageID: id, duplicate: false, answerQueued: false)
            }
            try await jobs.enqueue(
                AnswerMessage(conversation: intake.conversation.id, message: id), tenant: tenant.id, maxAttempts: 5,
                idempotencyKey: "answer:\(tenant.id):\(id)", on: connection)
            return AcceptedMessage(conversation: intake.conversation, messageID: id, duplicate: false, answerQueued: true)
        }
    }

    /// The job `bot.answer`: reads the message, embeds it with no transaction open, then answers in one transaction
    /// that locks the conversation and checks again that the bot still has it and that the message has no answer yet,
    /// so an operator who took the conversation meanwhile never sees the bot speak after them.
    public func answer(_ job: AnswerMessage, in tenant: TenantRecord, logger: Logger? = nil) async throws {
        let logger = logger ?? self.logger
        let pending = try await tenants.withTenant(tenant, readOnly: true, logger: logger) { connection in
            try await connection.value(
                String.self,
                """
                SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id
                WHERE m.id = \(job.message) AND m.conversation_id = \(job.conversation) AND m.author = 'shopper' AND c.state = 'bot'
                    AND NOT EXISTS (SELECT 1 FROM messages a WHERE a.reply_to = m.id AND a.author = 'bot')
                """)
        }
        // Deleted, answered, or people have it: nothing to do.
        guard let text = pending else { return }
        let started = ContinuousClock.now
        let query = await embedQuery(NormalizedText(String(text.prefix(4000))), tenant: tenant, logger: logger)
        let responded = try await tenants.withTenant(tenant, logger: logger) { connection -> Responded? in
            guard var conversation = try await conversations.lock(job.conversation, on: connection) else { return nil }
            return try await respond(
                to: job.message, text: text, conversation: &conversation, overQuota: nil, query: query, tenant: tenant,
                started: started, on: connection)
        }
        if case .needsModel(let pending) = responded { _ = try await complete(pending, in: tenant, logger: logger) }
    }
}

import Foundation
import Logging
import PostgresNIO

/// What `respond` came to: the answer is stored, or a language model must be asked first (with no transaction open).
enum Responded: Sendable {
    case replied(BotReply)
    case needsModel(PendingAnswer)
}

/// A turn waiting for its model: everything the second transaction needs to store the answer.
struct PendingAnswer: Sendable {
    var turn: Turn
    var call: ModelCall
    var conversationID: Int
    var shopperMessageID: Int
    var channel: ConversationChannel
    var mode: String
    /// When the message arrived (the channel's time budget counts from here).
    var started: ContinuousClock.Instant
}

extension BotEngine {
    /// The bot's answer to a stored shopper message, stored in the same transaction as the checks it rests on: the
    /// conversation (locked by the caller) must still be the bot's, and the message must not have an answer yet (a
    /// retried job answers once: `messages_answer` is unique). Outside `bot` the bot keeps quiet. When the answer needs
    /// a language model, nothing is stored and the caller asks the model, then `finish`es in a new transaction.
    func respond(
        to shopperMessageID: Int, text: String, conversation: inout Conversation, overQuota: (used: Int, limit: Int)?,
        query: QueryEmbedding, tenant: TenantRecord, started: ContinuousClock.Instant = .now,
        on connection: TenantConnection
    ) async throws -> Responded {
        guard let snapshot = try await snapshots.snapshot(botID: conversation.botID, schema: tenant.schema, on: connection) else {
            throw NoBot()
        }
        let (queryVector, mode) = Self.usable(query, snapshot: snapshot)
        let shopDefault = BotLanguage(rawValue: tenant.resolvedBranding.defaultLanguage ?? "ru") ?? .ru
        let language = snapshot.bot.language(for: text, current: conversation.language, shopDefault: shopDefault)
        guard conversation.state.botAnswers else {
            // People have it: the bot keeps quiet.
            try await touch(conversation, language: language, on: connection)
            return .replied(
                BotReply(conversationID: conversation.id, shopperMessageID: shopperMessageID, state: conversation.state, language: language)
            )
        }
        let normalized = NormalizedText(String(text.prefix(4000)))
        let values = TemplateValues(
            contactName: conversation.contactName, shopName: tenant.resolvedBranding.name ?? tenant.name,
            botName: snapshot.bot.displayName(language), channel: conversation.channel)
        var answer: BotAnswer
        var turn: Turn
        if let overQuota {
            turn = Turn(
                message: normalized, language: language, snapshot: snapshot, analysis: QueryAnalysis(words: []), values: values,
                now: clock.now())
            answer = HandoffStep.handOff(.quota, &turn, step: .quota)
            answer.notes.append("\(overQuota.used) of \(overQuota.limit) messages this month")
        } else {
            let analysis = try await QueryAnalysis.analyse(normalized, phraseSynonyms: snapshot.phraseSynonyms, on: connection)
            turn = Turn(
                message: normalized, language: language, snapshot: snapshot, analysis: analysis, queryVector: queryVector,
                retrievalMode: mode, fallbacksInRow: conversation.fallbacksInRow, values: values, now: clock.now())
            turn.model = try await modelAccess(
                snapshot, conversation: conversation, before: shopperMessageID, tenant: tenant, on: connection)
            do {
                answer = try await pipeline.answer(&turn)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // A step that cannot answer hands the shopper to people instead of leaving them alone.
                logger.warning("The pipeline failed; handing off", metadata: ["error": "\(error)"])
                answer = HandoffStep.handOff(.error, &turn)
                answer.notes.append("the bot could not answer: \(String(describing: error).prefix(200))")
            }
            if !turn.fields.isEmpty {
                try await connection.execute(
                    """
                    UPDATE contacts SET fields = fields || \(BotJSON.string(turn.fields))::jsonb, updated_at = now()
                    WHERE id = \(conversation.contactID)
                    """)
                turn.fields = [:]
            }
            if let call = turn.modelCall {
                return .needsModel(
                    PendingAnswer(
                        turn: turn, call: call, conversationID: conversation.id, shopperMessageID: shopperMessageID,
                        channel: conversation.channel, mode: mode, started: started))
            }
        }
        return .replied(
            try await store(answer, for: shopperMessageID, turn: turn, conversation: &conversation, mode: mode, on: connection))
    }

    /// Inserts the bot's answer (once per shopper message), updates the conversation, and hands off when the answer
    /// says so.
    func store(
        _ answer: BotAnswer, for shopperMessageID: Int, turn: Turn, conversation: inout Conversation, mode: String,
        on connection: TenantConnection
    ) async throws -> BotReply {
        let language = turn.language
        var answer = answer
        if answer.handoff != nil, let closed = answer.notes.firstIndex(of: HandoffStep.outsideHours),
            try await connection.value(
                Bool.self,
                """
                SELECT EXISTS (SELECT 1 FROM platform.operator_presence WHERE tenant_id = \(connection.scope.id) AND status = 'online'
                    AND seen_at > now() - interval '90 seconds')
                """) == true
        {
            // Outside the shop's hours, but someone is on duty: they will answer, so no "we are away".
            answer.text = BotTexts.handoff(language)
            answer.notes[closed] = "outside business hours, but an operator is online"
        }
        let explanation = Explanation(answer: answer, mode: mode, language: language, threshold: turn.snapshot.bot.threshold)
        let fallback = answer.step == .fallback
        let messageID = try await connection.value(
            Int.self,
            """
            WITH r AS (INSERT INTO messages (conversation_id, channel, author, text, parts, explanation, delivery, reply_to)
                VALUES (\(conversation.id), \(conversation.channel.rawValue), \(answer.step == .quota ? "system" : "bot"), \(answer.text),
                    \(BotJSON.encode(answer.parts))::jsonb, \(explanation.json)::jsonb, \(conversation.channel.firstDelivery),
                    \(shopperMessageID))
                ON CONFLICT (reply_to) WHERE author = 'bot' DO NOTHING RETURNING id),
            c AS (UPDATE conversations SET fallbacks_in_row = CASE WHEN \(fallback) THEN fallbacks_in_row + 1 ELSE 0 END,
                language = \(language.rawValue), updated_at = now(), last_message_at = now()
                WHERE id = \(conversation.id) AND EXISTS (SELECT 1 FROM r))
            SELECT id::int FROM r
            """)
        guard let messageID else {
            // Answered already (a job that ran again after its lease ended).
            return BotReply(
                conversationID: conversation.id, shopperMessageID: shopperMessageID, state: conversation.state, language: language)
        }
        if let reason = answer.handoff {
            conversation.state = try await conversations.apply(.handOff(reason), to: conversation, on: connection)
            conversation.state = try await conversations.autoAssign(conversation, on: connection)
        }
        return BotReply(
            conversationID: conversation.id, shopperMessageID: shopperMessageID, messageID: messageID, answer: answer,
            state: conversation.state, language: language)
    }
}

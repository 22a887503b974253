import Foundation
import Logging
import Synchronization

extension ConversationChannel {
    /// How long the shopper may wait for an answer on this channel: a voice assistant hangs up after about 4.5 s, a
    /// chat window is patient for a while.
    public var answerBudget: Duration {
        switch self {
        case .alice: .seconds(3)
        case .widget: .seconds(15)
        case .telegram, .whatsapp, .api, .test: .seconds(20)
        }
    }
}

extension BotEngine {
    /// How long a model may take on a channel: on Alice, the installation's budget (VITRINA_ALICE_BUDGET_MS) less the
    /// time to store retrieval's answer and reach the skill, so the webhook has an answer to say in time.
    func modelBudget(_ channel: ConversationChannel) -> Duration {
        guard channel == .alice, let aliceBudget else { return channel.answerBudget }
        // A fifth of the budget (at least 400 ms) is kept for retrieval's answer to be stored and sent.
        return max(.milliseconds(100), aliceBudget - max(.milliseconds(400), aliceBudget / 5))
    }

    /// The model this turn may ask: the bot's (or its agency's) provider with its key opened, when the shop has tokens
    /// left this month (the plan's `llm_tokens_per_month` and the shop's own lower cap), and the conversation so far.
    func modelAccess(
        _ snapshot: BotSnapshot, conversation: Conversation, before messageID: Int, tenant: TenantRecord, on connection: TenantConnection
    ) async throws -> ModelAccess? {
        guard var access = openedAccess(snapshot, tenant: tenant) else { return nil }
        if try await ShopModel.overBudget(tenant, on: connection) { return nil }
        let rows = try await connection.values(
            (String, String).self,
            """
            SELECT author, text FROM (SELECT id, author, text FROM messages WHERE conversation_id = \(conversation.id) AND id < \(messageID)
                AND NOT internal AND author IN ('shopper', 'bot', 'operator') ORDER BY id DESC LIMIT 12) m ORDER BY id
            """)
        access.history = rows.map { ChatMessage($0.0 == "shopper" ? .user : .assistant, $0.1) }
        return access
    }

    /// The bot's (or its agency's) provider with its key opened, before any budget or history: nil when the bot has
    /// no model or its key cannot be opened (logged, never the key).
    func openedAccess(_ snapshot: BotSnapshot, tenant: TenantRecord) -> ModelAccess? {
        guard models != nil, let secrets, let (provider, sealed, fromPartner) = snapshot.model else { return nil }
        let key: String
        do {
            key = try sealed.map { try secrets.open($0) } ?? ""
        } catch {
            logger.error("A sealed model key cannot be opened", metadata: ["error": "\(error)"])
            return nil
        }
        return ModelAccess(
            provider: provider, key: key, circuit: tenant.id.uuidString + "/" + provider.name, instructions: snapshot.bot.llm.instructions,
            onUncited: snapshot.bot.llm.onUncited, history: [], fromPartner: fromPartner)
    }

    /// Asks the model with no transaction open (within the channel's budget, streaming the answer's text to the widget
    /// as a draft), then stores the answer in a transaction that checks again that the bot still has the conversation.
    func complete(_ pending: PendingAnswer, in tenant: TenantRecord, logger: Logger) async throws -> BotReply {
        let call = pending.call
        let provider = call.access.provider
        let deadline = min(pending.started + modelBudget(pending.channel), ContinuousClock.now + .seconds(provider.timeoutSeconds))
        let draft = pending.channel == .widget ? DraftWriter() : nil
        let writing = draft.map { draft in
            Task {
                await draft.run(every: .milliseconds(200)) { [tenants] text in try await Self.saveDraft(text, pending, tenant, tenants) }
            }
        }
        let started = ContinuousClock.now
        var completion: ChatCompletion?
        var failure: String?
        if let models {
            let request = call.request
            do {
                let model = try models.model(for: provider, key: call.access.key, circuit: call.access.circuit)
                completion = try await model.complete(
                    request, deadline: deadline, logger: logger,
                    onDelta: draft.map { draft -> @Sendable (String) -> Void in { draft.append($0) } })
            } catch let error as ChatModelError {
                failure = error.description
                logger.notice("The language model did not answer", metadata: ["error": "\(error)", "model": "\(provider.name)"])
            } catch is CancellationError {
                failure = "cancelled"
            } catch {
                failure = "\(error)"
            }
        }
        draft?.finish()
        await writing?.value
        let elapsed = Int((ContinuousClock.now - started) / .milliseconds(1))
        return try await tenants.withTenant(tenant, logger: logger) { connection in
            try await connection.execute("DELETE FROM answer_drafts WHERE conversation_id = \(pending.conversationID)")
            guard var conversation = try await conversations.lock(pending.conversationID, on: connection) else {
                throw ConversationNotFound(id: pending.conversationID)
            }
            var turn = pending.turn
            guard conversation.state.botAnswers else {
                // A person took the conversation while the model wrote: the bot says nothing.
                return BotReply(
                    conversationID: conversation.id, shopperMessageID: pending.shopperMessageID, state: conversation.state,
                    language: turn.language)
            }
            var answer = decide(completion, failure: failure, call: call, turn: &turn, tenant: tenant, milliseconds: elapsed)
            if let usage = completion?.usage {
                try await Self.count(usage, tenant: tenant, on: connection)
                answer.model?.tokens = usage
            }
            return try await store(
                answer, for: pending.shopperMessageID, turn: turn, conversation: &conversation, mode: pending.mode, on: connection)
        }
    }

    /// The answer from the model's reply: a checked grounded answer, a question back, or, when the model cannot answer
    /// (no citation, a hand-off, a refused or missing reply), the bot's settings' choice: retrieval's answer when it was
    /// sure enough, else the fallback or a person.
    func decide(
        _ completion: ChatCompletion?, failure: String?, call: ModelCall, turn: inout Turn, tenant: TenantRecord, milliseconds: Int
    ) -> BotAnswer {
        var report = ModelReport(
            model: call.access.provider.name, passages: call.prompt.passages.map { "\($0.id) \($0.source.rawValue):\($0.entry)" },
            citations: [], tokens: completion?.usage, milliseconds: milliseconds)
        var reply: GroundedReply?
        if let completion {
            do {
                reply = try GroundedReply.read(
                    completion.text, passages: call.prompt.passages, language: turn.language, shopHosts: tenant.domains,
                    question: turn.message.original)
            } catch {
                report.refused = "\(error)"
            }
        } else {
            report.refused = failure ?? "no model"
        }
        var answer: BotAnswer
        if let reply, reply.action == .answer, let first = reply.citations.first {
            answer = BotAnswer(step: .llm, text: reply.text)
            answer.entry = EntryReference(source: first.source, slug: first.entry, title: first.title)
            var seen = Set<String>()
            for passage in reply.citations {
                for link in passage.links where seen.insert(link).inserted {
                    answer.parts.append(MessagePart(type: .link, title: passage.title, url: link))
                }
            }
            report.citations = reply.citations.map { $0.source.rawValue + ":" + $0.entry }
        } else if let reply, reply.action == .clarify {
            answer = BotAnswer(step: .clarify, text: reply.text)
        } else {
            let why = reply.map { $0.action == .handoff ? "the model would hand off" : "the model's answer cites no passage" }
            if call.access.onUncited == .handoff, reply != nil {
                answer = HandoffStep.handOff(.model, &turn)
            } else if let retrieval = call.retrievalAnswer {
                answer = retrieval
            } else {
                answer = FallbackStep.fallback(&turn)
            }
            answer.notes.append(why ?? "the model gave no usable answer: " + (report.refused ?? ""))
        }
        if answer.candidates.isEmpty, let candidates = turn.candidates {
            answer.candidates = candidates.map { AnswerPipeline.explained($0, turn.snapshot.knowledge) }
        }
        answer.model = report
        return answer
    }

    /// Counts a call's tokens in the shop's month (the row the month's first message made).
    static func count(_ usage: TokenUsage, tenant: TenantRecord, on connection: TenantConnection) async throws {
        let total = try await connection.value(
            Int.self,
            """
            INSERT INTO platform.message_usage AS u (tenant_id, month, messages, llm_prompt_tokens, llm_completion_tokens, llm_calls)
            VALUES (\(tenant.id), date_trunc('month', now() AT TIME ZONE 'UTC')::date, 0, \(usage.prompt), \(usage.completion), 1)
            ON CONFLICT (tenant_id, month) DO UPDATE SET llm_prompt_tokens = u.llm_prompt_tokens + EXCLUDED.llm_prompt_tokens,
                llm_completion_tokens = u.llm_completion_tokens + EXCLUDED.llm_completion_tokens, llm_calls = u.llm_calls + 1
            RETURNING (u.llm_prompt_tokens + u.llm_completion_tokens)::int8
            """)
        // Crossing 80 % of the month's limit queues the owners' e-mail once, with this transaction.
        try await UsageWarnings.tokensCounted(total: total ?? 0, tenantID: tenant.id, on: connection)
    }

    /// Writes the answer's text so far for the widget's stream (its own short transaction).
    static func saveDraft(_ text: String, _ pending: PendingAnswer, _ tenant: TenantRecord, _ tenants: TenantDatabase) async throws {
        try await tenants.withTenant(tenant) { connection in
            try await connection.execute(
                """
                INSERT INTO answer_drafts (conversation_id, reply_to, text) VALUES (\(pending.conversationID), \(pending.shopperMessageID), \(text))
                ON CONFLICT (conversation_id) DO UPDATE SET reply_to = EXCLUDED.reply_to, text = EXCLUDED.text, updated_at = now()
                """)
        }
    }
}

/// Collects a streamed reply and hands the answer's text so far (the JSON's `text` field, read as it grows) to a
/// writer at most every `interval`.
final class DraftWriter: Sendable {
    private struct State {
        var raw = ""
        var written = ""
        var done = false
    }
    private let state = Mutex(State())

    func append(_ delta: String) { state.withLock { $0.raw += delta } }
    func finish() { state.withLock { $0.done = true } }

    /// Runs until `finish`, calling `write` with new text; a failed write is skipped (the final answer is stored anyway).
    func run(every interval: Duration, write: @Sendable (String) async throws -> Void) async {
        while true {
            let (text, done) = state.withLock { state -> (String?, Bool) in
                let text = Self.partialText(state.raw)
                guard let text, text != state.written else { return (nil, state.done) }
                state.written = text
                return (text, state.done)
            }
            if let text, !done { try? await write(text) }
            if done { return }
            try? await Task.sleep(for: interval)
        }
    }

    /// The value of `"text": "…"` in a JSON object still being written, unescaped as far as it goes.
    static func partialText(_ raw: String) -> String? {
        guard let key = raw.range(of: "\"text\"") else { return nil }
        var rest = raw[key.upperBound...].drop { $0 == " " || $0 == ":" || $0 == "\n" }
        guard rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        var text = ""
        var escaped = false
        for character in rest {
            if escaped {
                switch character {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "u": break
                default: text.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                break
            } else {
                text.append(character)
            }
        }
        return text
    }
}

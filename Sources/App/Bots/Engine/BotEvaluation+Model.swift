import Foundation
import Logging

/// Whether `bot eval` asks the bot's language model: `auto` when the bot has one, `on` (an error without one), `off`
/// (retrieval alone, as before models).
public enum EvaluationModelUse: String, Sendable, CaseIterable {
    case auto, on, off
}

/// `bot eval --llm on` for a bot without a language model.
public struct NoModelToEvaluate: Error, Sendable, CustomStringConvertible {
    public var description: String {
        "This shop's bot has no language model (tenants.yml `llm:` of the bot or its agency), or its key cannot be opened."
    }
}

/// What the language model did over a question set: how many questions went to it, what became of its replies, and
/// what they cost.
public struct ModelEvaluation: Sendable, Codable, Equatable {
    /// `provider/model`.
    public var model: String
    /// Questions whose turn asked the model (the others were answered before it: hand-offs, rules, off-topic below
    /// the model's minimum confidence).
    public var calls = 0
    /// Answers that are the model's own (`step llm`), and those of them whose first citation is an expected entry.
    public var answers = 0
    public var rightAnswers = 0
    /// The model asked back.
    public var clarified = 0
    /// Replies not used: not the JSON asked for, citing nothing or a passage it was not given, a foreign link, the
    /// wrong language, or a hand-off; the shopper got retrieval's answer, the fallback or a person instead.
    public var refused = 0
    /// Calls with no reply at all (a timeout, an error, an open circuit).
    public var failed = 0
    public var promptTokens = 0
    public var completionTokens = 0
    /// Some calls' tokens are estimates (the provider did not count them).
    public var estimatedTokens = false
    public var milliseconds = 0

    public init(model: String) {
        self.model = model
    }

    public var tokens: Int { promptTokens + completionTokens }
    public var meanTokens: Double { calls == 0 ? 0 : Double(tokens) / Double(calls) }
    public var meanMilliseconds: Double { calls == 0 ? 0 : Double(milliseconds) / Double(calls) }

    /// Counts one question's answer that went to the model.
    mutating func count(_ answer: BotAnswer, right: Bool) {
        guard let report = answer.model else { return }
        calls += 1
        milliseconds += report.milliseconds
        if let usage = report.tokens {
            promptTokens += usage.prompt
            completionTokens += usage.completion
            estimatedTokens = estimatedTokens || usage.estimated
        } else {
            failed += 1
            return
        }
        switch answer.step {
        case .llm:
            answers += 1
            if right { rightAnswers += 1 }
        case .clarify where report.refused == nil && !answer.notes.contains(where: { $0.hasPrefix("the model") }):
            clarified += 1
        default:
            refused += 1
        }
    }

    enum CodingKeys: String, CodingKey {
        case model, calls, answers, clarified, refused, failed, milliseconds
        case rightAnswers = "right_answers"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case estimatedTokens = "estimated_tokens"
    }
}

extension BotEngine {
    /// The model a dry run asks: the bot's (or its agency's) provider with its key opened, as `modelAccess` resolves it
    /// for a shopper's first message (no conversation before it). The month's token budget is not checked, and the
    /// tokens are not counted in it: measuring is the operator's, and stores nothing.
    func evaluationAccess(_ snapshot: BotSnapshot, tenant: TenantRecord) -> ModelAccess? {
        openedAccess(snapshot, tenant: tenant)
    }

    /// Asks the model the call `LLMStep` prepared and turns its reply into the answer with the engine's own `decide`
    /// (the same checks, citations and fall-backs shoppers get), with nothing stored. The call may take the provider's
    /// `timeout` whatever a channel's budget: the run measures the model's answers (the time each took is reported),
    /// so a slow local model is measured rather than cut off. Also returns the model's raw reply (its first 500
    /// characters), to read what a refused one said.
    func evaluationAnswer(_ call: ModelCall, turn: inout Turn, tenant: TenantRecord) async -> (BotAnswer, String?) {
        let provider = call.access.provider
        let started = ContinuousClock.now
        let deadline = started + .seconds(provider.timeoutSeconds)
        var completion: ChatCompletion?
        var failure: String?
        if let models {
            let request = call.request
            do {
                let model = try models.model(for: provider, key: call.access.key, circuit: call.access.circuit)
                completion = try await model.complete(request, deadline: deadline, logger: logger, onDelta: nil)
            } catch let error as ChatModelError {
                failure = error.description
            } catch {
                failure = "\(error)"
            }
        }
        let elapsed = Int((ContinuousClock.now - started) / .milliseconds(1))
        let answer = decide(completion, failure: failure, call: call, turn: &turn, tenant: tenant, milliseconds: elapsed)
        return (answer, completion.map { String($0.text.prefix(500)) })
    }
}

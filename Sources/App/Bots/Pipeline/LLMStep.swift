import Foundation

/// The model a turn may ask, as the engine resolved it: the provider and its key (the bot's own or its agency's), the
/// circuit breaker's key, the shop's instructions, what an uncited answer becomes, and the conversation so far.
public struct ModelAccess: Sendable {
    public var provider: LLMProvider
    public var key: String
    /// `<shop id>/<provider name>`: repeated failures of one shop's provider open its circuit, not everyone's.
    public var circuit: String
    public var instructions: String
    public var onUncited: LLMSettings.Uncited
    /// The conversation's turns before this message (the shopper's as user messages, the bot's and people's as
    /// assistant messages).
    public var history: [ChatMessage]
    /// The agency's model, not the bot's own.
    public var fromPartner: Bool
}

/// A model call a turn needs: the engine makes it between its two transactions (never holding one across the network).
public struct ModelCall: Sendable {
    public var prompt: GroundedPrompt
    public var access: ModelAccess
    /// What retrieval would have answered (when it was sure enough): the answer when the model cannot give one.
    public var retrievalAnswer: BotAnswer?

    /// What the model is asked: the prompt, the provider's temperature and length, JSON, and the reply's schema (its
    /// citations limited to the passages sent) for a provider that takes one.
    public var request: ChatRequest {
        var request = ChatRequest(
            messages: prompt.messages, temperature: access.provider.temperature, maxTokens: access.provider.maxTokens, json: true)
        request.schema = .grounded(passages: prompt.passages.map(\.id))
        return request
    }
}

/// What a model's answer rests on, for the explanation.
public struct ModelReport: Sendable, Codable, Equatable {
    public var model: String
    /// The passages sent: `p1 faq:delivery-time`.
    public var passages: [String]
    /// The entries cited, first the one the answer mainly rests on.
    public var citations: [String]
    public var tokens: TokenUsage?
    public var milliseconds: Int
    /// Why the model's answer was not used, when it was not.
    public var refused: String?
}

/// The language model's step, after retrieval and before the fallback: when the bot has a model within budget, the
/// top passages of the ranking go to it with the conversation, and its structured reply (checked by `GroundedReply`)
/// becomes the answer. The call itself is the engine's (`BotEngine+Model`): this step only prepares it.
public struct LLMStep: AnswerStep {
    public var kind: AnswerStepKind { .llm }
    public var isLocal: Bool { false }
    let retriever: Retriever
    /// Passages sent at most.
    let passages: Int
    /// Below this confidence the question is taken as off-topic without asking the model (no tokens spent on "what
    /// is the weather", nothing for it to invent from).
    let minimumConfidence: Double

    public init(retriever: Retriever, passages: Int = 5, minimumConfidence: Double = 0.05) {
        self.retriever = retriever
        self.passages = passages
        self.minimumConfidence = minimumConfidence
    }

    public func answer(_ turn: inout Turn) async throws -> BotAnswer? {
        guard let access = turn.model else { return nil }
        let candidates = turn.ranked(retriever)
        guard let top = candidates.first, top.score >= minimumConfidence else { return turn.retrievalAnswer }
        let knowledge = turn.snapshot.knowledge
        var sent: [GroundingPassage] = []
        for candidate in candidates.prefix(passages) {
            let entry = knowledge.entries[candidate.entry]
            let text: String
            var links = entry.buttons.map(\.url)
            if let answer = entry.answer {
                text = answer
            } else {
                text = knowledge.passages[candidate.passage].part == .paragraph ? knowledge.passages[candidate.passage].text : entry.title
                links.append("/help/" + entry.slug)
            }
            sent.append(
                GroundingPassage(
                    id: "p\(sent.count + 1)", entry: entry.slug, source: entry.source, title: entry.title, text: String(text.prefix(1500)),
                    links: links))
        }
        let prompt = GroundedPrompt.build(
            botName: turn.values.botName, shopName: turn.values.shopName, instructions: access.instructions, language: turn.language,
            passages: sent, history: access.history, message: turn.message.original)
        turn.modelCall = ModelCall(prompt: prompt, access: access, retrievalAnswer: turn.retrievalAnswer)
        return BotAnswer(step: .llm, text: "")
    }
}

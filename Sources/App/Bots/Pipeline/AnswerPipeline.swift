import Foundation

/// What every step sees of one shopper message.
public struct Turn: Sendable {
    public var message: NormalizedText
    public var language: BotLanguage
    public var snapshot: BotSnapshot
    public var analysis: QueryAnalysis
    /// The message's vector, when the embedding model answered.
    public var queryVector: [Float]?
    /// How retrieval ran ("lexical+semantic", or "lexical" and why).
    public var retrievalMode: String
    /// Fallbacks in a row before this message.
    public var fallbacksInRow: Int
    public var values: TemplateValues
    public var now: Date
    /// Contact fields set by rules on the way.
    public var fields: [String: String] = [:]
    /// The ranking, once a step asked for it.
    public var candidates: [Candidate]? = nil
    /// The language model this turn may ask (configured, within budget, its circuit closed), with the conversation so far.
    public var model: ModelAccess? = nil
    /// With a model at hand: what retrieval would have answered (when sure enough), kept for when the model cannot answer.
    public var retrievalAnswer: BotAnswer? = nil
    /// Set by `LLMStep`: the call the engine makes between its two transactions.
    public var modelCall: ModelCall? = nil

    public init(
        message: NormalizedText, language: BotLanguage, snapshot: BotSnapshot, analysis: QueryAnalysis, queryVector: [Float]? = nil,
        retrievalMode: String = "lexical", fallbacksInRow: Int = 0, values: TemplateValues, now: Date = Date()
    ) {
        self.message = message
        self.language = language
        self.snapshot = snapshot
        self.analysis = analysis
        self.queryVector = queryVector
        self.retrievalMode = retrievalMode
        self.fallbacksInRow = fallbacksInRow
        self.values = values
        self.now = now
    }

    /// The knowledge ranked for this message (computed once).
    public mutating func ranked(_ retriever: Retriever) -> [Candidate] {
        if let candidates { return candidates }
        let ranked = retriever.rank(analysis, in: snapshot.knowledge, queryVector: queryVector)
        candidates = ranked
        return ranked
    }

    /// The bot's threshold on the confidence, or the installation's (the same with and without vectors).
    public func threshold(_ tuning: Retriever.Tuning) -> Double {
        snapshot.bot.threshold ?? tuning.threshold
    }
}

/// Which step answered.
public enum AnswerStepKind: String, Sendable, Codable {
    case greeting, smallTalk = "small_talk", handoff, rule, knowledge, clarify, fallback, quota, closed, llm
}

/// Something under a message: a quick reply, a link, an article.
public struct MessagePart: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// A quick reply: tapping it sends `title` as the shopper's message.
        case button
        case link
        /// A file a shopper sent on a messenger (`attachment` says which); `title` names it for people.
        case attachment
        /// WhatsApp: the approved template an operator sent outside the 24-hour window (`template`).
        case template
    }
    public var type: Kind
    public var title: String
    public var url: String?
    public var attachment: Attachment?
    public var template: WhatsAppTemplate?

    public init(type: Kind, title: String, url: String? = nil, attachment: Attachment? = nil, template: WhatsAppTemplate? = nil) {
        self.type = type
        self.title = title
        self.url = url
        self.attachment = attachment
        self.template = template
    }
}

/// A step's decision: what to say, and why.
public struct BotAnswer: Sendable, Equatable {
    public var step: AnswerStepKind
    public var text: String
    public var parts: [MessagePart] = []
    /// The FAQ entry or article answered with.
    public var entry: EntryReference?
    public var rule: String?
    public var score: Double?
    /// The ranking's top candidates (the runner-ups of the one answered with).
    public var candidates: [ExplainedCandidate] = []
    /// Set when the conversation goes to people.
    public var handoff: HandoffReason?
    public var notes: [String] = []
    /// A model's answer: the entries it cited, the passages it was sent, its tokens, the model and the time it took.
    public var model: ModelReport?

    public init(
        step: AnswerStepKind, text: String, parts: [MessagePart] = [], entry: EntryReference? = nil, rule: String? = nil,
        score: Double? = nil, handoff: HandoffReason? = nil
    ) {
        self.step = step
        self.text = text
        self.parts = parts
        self.entry = entry
        self.rule = rule
        self.score = score
        self.handoff = handoff
    }
}

public struct EntryReference: Sendable, Codable, Equatable {
    public var source: KnowledgeSource
    public var slug: String
    public var title: String
}

public struct ExplainedCandidate: Sendable, Codable, Equatable {
    public var source: KnowledgeSource
    public var entry: String
    public var title: String
    public var score: Double
    public var lexical: Double
    public var semantic: Double?
}

/// One step of the answer pipeline: it answers, or returns nil to let the next step try. Steps are values; the LLM
/// and catalog steps of later issues are more of them, put in the list where they belong.
///
/// Steps run inside the transaction that stores the shopper's message and the answer, so they must not wait on the
/// network (the engine computes the query's vector before the transaction opens). A step that needs the network
/// says so with `isLocal`, and the engine then answers in a second transaction after the first commits.
public protocol AnswerStep: Sendable {
    var kind: AnswerStepKind { get }
    var isLocal: Bool { get }
    func answer(_ turn: inout Turn) async throws -> BotAnswer?
}

extension AnswerStep {
    public var isLocal: Bool { true }
}

/// The steps in order; the last one (the fallback) always answers.
public struct AnswerPipeline: Sendable {
    public var steps: [any AnswerStep]
    public var retriever: Retriever

    public init(steps: [any AnswerStep], retriever: Retriever) {
        self.steps = steps
        self.retriever = retriever
    }

    /// normalise (done by the caller) → hand-off request → small talk → rules → knowledge → the language model (when
    /// the bot has one) → fallback (which hands off after N in a row).
    public static func standard(retriever: Retriever = Retriever()) -> AnswerPipeline {
        AnswerPipeline(
            steps: [
                HandoffStep(), SmallTalkStep(), RulesStep(retriever: retriever), KnowledgeStep(retriever: retriever),
                LLMStep(retriever: retriever), FallbackStep(),
            ],
            retriever: retriever)
    }

    public func answer(_ turn: inout Turn) async throws -> BotAnswer {
        for step in steps {
            if var answer = try await step.answer(&turn) {
                if answer.candidates.isEmpty, let candidates = turn.candidates {
                    answer.candidates = candidates.map { Self.explained($0, turn.snapshot.knowledge) }
                }
                return answer
            }
        }
        return FallbackStep.fallback(&turn)
    }

    static func explained(_ candidate: Candidate, _ knowledge: KnowledgeIndex) -> ExplainedCandidate {
        let entry = knowledge.entries[candidate.entry]
        return ExplainedCandidate(
            source: entry.source, entry: entry.slug, title: entry.title, score: Self.rounded(candidate.score),
            lexical: Self.rounded(candidate.lexical), semantic: candidate.semantic.map(Self.rounded))
    }

    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

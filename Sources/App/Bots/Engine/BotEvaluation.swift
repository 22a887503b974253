import Foundation
import Logging
import Yams

/// A question set (`Tests/Fixtures/bot-eval/*.yml`): questions and what answers them — entry slugs (any of them first
/// is right), `none` (off-topic: the fallback must answer) or `handoff`.
public struct QuestionSet: Sendable {
    public enum Expectation: Sendable, Equatable {
        case entries([String])
        case none
        case handoff
    }

    public struct Question: Sendable {
        public var text: String
        public var expect: Expectation
        public var line: Int
    }

    public var shop: String?
    public var questions: [Question]

    /// Parses a question set; mistakes are reported as `file:line: message`.
    public static func parse(_ text: String, file: String) throws -> QuestionSet {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw BotSettingsError("\(file): not YAML: \(error)") }
        guard let root = node?.mapping else { throw BotSettingsError("\(file): expected `questions:` at the top.") }
        guard let items = root["questions"]?.sequence else { throw BotSettingsError("\(file):1: `questions:` must be a list.") }
        var questions: [Question] = []
        for item in items {
            let line = item.mark.map { $0.line } ?? 0
            guard let map = item.mapping, let q = map["q"]?.string, !q.isEmpty else {
                throw BotSettingsError("\(file):\(line): each question needs `q:` (the shopper's text).")
            }
            let expect: Expectation
            if let single = map["expect"]?.string {
                switch single {
                case "none": expect = .none
                case "handoff": expect = .handoff
                default: expect = .entries([single])
                }
            } else if let list = map["expect"]?.sequence {
                expect = .entries(list.compactMap(\.string))
            } else {
                throw BotSettingsError("\(file):\(line): `expect:` must be entry slugs, none or handoff.")
            }
            questions.append(Question(text: q, expect: expect, line: line))
        }
        return QuestionSet(shop: root["shop"]?.string, questions: questions)
    }
}

/// What retrieval saw for one question: the step that answered and, per entry, its best lexical score and cosine for
/// headings (question, phrasings, title) and bodies (answer, paragraphs).
public struct QuestionFeatures: Sendable, Codable {
    public struct Entry: Sendable, Codable {
        public var slug: String
        public var source: String
        public var lexHead = 0.0
        public var lexBody = 0.0
        /// Cosines of every heading and body passage, best first (empty without vectors).
        public var cosHead: [Double] = []
        public var cosBody: [Double] = []
        /// The help articles a FAQ entry links to (it and they answer the same thing).
        public var links: [String] = []

        enum CodingKeys: String, CodingKey {
            case slug, source, links
            case lexHead = "lex_head"
            case lexBody = "lex_body"
            case cosHead = "cos_head"
            case cosBody = "cos_body"
        }
    }

    public var question: String
    public var expected: String
    public var step: String
    public var entries: [Entry]

    static func collect(_ question: String, _ expected: String, _ step: String, _ turn: Turn, _ retriever: Retriever) -> Self {
        let knowledge = turn.snapshot.knowledge
        var entries = knowledge.entries.map { entry in
            var features = Entry(slug: entry.slug, source: entry.source.rawValue)
            features.links = entry.buttons.compactMap { $0.url.hasPrefix("/help/") ? String($0.url.dropFirst(6)) : nil }
            return features
        }
        for scored in retriever.passageScores(turn.analysis, in: knowledge, queryVector: turn.queryVector) {
            let passage = knowledge.passages[scored.passage]
            var entry = entries[passage.entry]
            if passage.part.isHeading {
                entry.lexHead = max(entry.lexHead, scored.lexical)
                if let cosine = scored.cosine { entry.cosHead.append(cosine) }
            } else {
                entry.lexBody = max(entry.lexBody, scored.lexical)
                if let cosine = scored.cosine { entry.cosBody.append(cosine) }
            }
            entries[passage.entry] = entry
        }
        for index in entries.indices {
            entries[index].cosHead.sort(by: >)
            entries[index].cosBody.sort(by: >)
        }
        return QuestionFeatures(question: question, expected: expected, step: step, entries: entries)
    }
}

/// How a bot did on a question set.
public struct EvaluationReport: Sendable, Codable {
    public struct Miss: Sendable, Codable {
        public var question: String
        public var expected: String
        public var step: String
        public var entry: String?
        public var score: Double?
        public var candidates: [ExplainedCandidate]
        /// With a language model: what the bot said, and the model's part (cited entries, tokens, time, why refused).
        public var text: String? = nil
        public var model: ModelReport? = nil
        /// The model's raw reply (its first 500 characters), used or not.
        public var reply: String? = nil
    }

    public var shop: String
    public var retrieval: String
    public var answerable: Int
    public var rightFirst: Int
    /// Answerable questions the bot asked back about, offering the right entry.
    public var clarifiedRight: Int
    public var offTopic: Int
    public var keptOut: Int
    public var handoffRequests: Int
    public var handedOff: Int
    public var misses: [Miss]
    /// Every question's outcome (for tuning: `bot eval --json`).
    public var results: [Miss] = []
    /// Every question's retrieval features (`bot eval --features`), for tuning the fusion outside the program.
    public var features: [QuestionFeatures]?
    /// What the language model did, when the run asked it (`--llm`).
    public var llm: ModelEvaluation?

    public var accuracy: Double { answerable == 0 ? 1 : Double(rightFirst) / Double(answerable) }
    public var keptOutShare: Double { offTopic == 0 ? 1 : Double(keptOut) / Double(offTopic) }

    enum CodingKeys: String, CodingKey {
        case shop, retrieval, answerable, misses, results, features, llm
        case rightFirst = "right_first"
        case clarifiedRight = "clarified_right"
        case offTopic = "off_topic"
        case keptOut = "kept_out"
        case handoffRequests = "handoff_requests"
        case handedOff = "handed_off"
    }
}

extension BotEngine {
    /// Runs a question set through the pipeline, each question as the first message of a new conversation, without
    /// storing anything (a read-only transaction per question). With the bot's language model (`llm`: when it has
    /// one, unless `off`), a question that reaches the model's step is asked of it between transactions, as a
    /// shopper's would be, and its answer counts by its first citation.
    public func evaluate(
        _ set: QuestionSet, in tenant: TenantRecord, tuning: Retriever.Tuning? = nil, features: Bool = false,
        llm: EvaluationModelUse = .off
    ) async throws -> EvaluationReport {
        let retriever = Retriever(tuning: tuning ?? Retriever.Tuning())
        let pipeline = tuning.map { _ in AnswerPipeline.standard(retriever: retriever) } ?? self.pipeline
        var report = EvaluationReport(
            shop: tenant.slug, retrieval: "lexical", answerable: 0, rightFirst: 0, clarifiedRight: 0, offTopic: 0, keptOut: 0,
            handoffRequests: 0, handedOff: 0, misses: [])
        if features { report.features = [] }
        for question in set.questions {
            var (answer, mode, turn) = try await dryAnswer(question.text, in: tenant, pipeline: pipeline, llm: llm)
            if let access = turn.model, report.llm == nil { report.llm = ModelEvaluation(model: access.provider.name) }
            var reply: String?
            if let call = turn.modelCall { (answer, reply) = await evaluationAnswer(call, turn: &turn, tenant: tenant) }
            if mode != "lexical" || report.retrieval == "lexical" { report.retrieval = mode }
            var right = false
            let expected: String
            switch question.expect {
            case .entries(let slugs):
                report.answerable += 1
                expected = slugs.joined(separator: " | ")
                right = [.knowledge, .rule, .llm].contains(answer.step) && answer.entry.map { slugs.contains($0.slug) } == true
                if right {
                    report.rightFirst += 1
                } else if answer.step == .clarify, answer.candidates.prefix(2).contains(where: { slugs.contains($0.entry) }) {
                    report.clarifiedRight += 1
                }
            case .none:
                report.offTopic += 1
                expected = "none"
                right = answer.step == .fallback || (answer.step == .handoff && answer.handoff == .fallbacks)
                if right { report.keptOut += 1 }
            case .handoff:
                report.handoffRequests += 1
                expected = "handoff"
                right = answer.handoff != nil
                if right { report.handedOff += 1 }
            }
            var outcome = EvaluationReport.Miss(
                question: question.text, expected: expected, step: answer.step.rawValue, entry: answer.entry?.slug, score: answer.score,
                candidates: Array(answer.candidates.prefix(5)))
            if let model = answer.model {
                outcome.text = answer.text
                outcome.model = model
                outcome.reply = reply
                report.llm?.count(answer, right: right)
            }
            if !right { report.misses.append(outcome) }
            report.results.append(outcome)
            if features {
                report.features?.append(QuestionFeatures.collect(question.text, expected, answer.step.rawValue, turn, retriever))
            }
        }
        return report
    }

    /// The answer a first message would get, computed in a read-only transaction.
    func dryAnswer(
        _ text: String, in tenant: TenantRecord, pipeline: AnswerPipeline, llm: EvaluationModelUse = .off
    ) async throws -> (BotAnswer, String, Turn) {
        let normalized = NormalizedText(String(text.prefix(4000)))
        let query = await embedQuery(normalized, tenant: tenant, admitting: .activeOrSuspended, logger: logger)
        // An operator's measuring tool: a suspended shop's bot can be measured too.
        return try await tenants.withTenant(tenant, readOnly: true, admitting: .activeOrSuspended) {
            connection -> (BotAnswer, String, Turn) in
            guard let snapshot = try await snapshots.snapshot(botID: nil, schema: tenant.schema, on: connection) else { throw NoBot() }
            let (vector, mode) = BotEngine.usable(query, snapshot: snapshot)
            let shopDefault = BotLanguage(rawValue: tenant.resolvedBranding.defaultLanguage ?? "ru") ?? .ru
            let language = snapshot.bot.language(for: text, current: nil, shopDefault: shopDefault)
            let analysis = try await QueryAnalysis.analyse(normalized, phraseSynonyms: snapshot.phraseSynonyms, on: connection)
            var turn = Turn(
                message: normalized, language: language, snapshot: snapshot, analysis: analysis, queryVector: vector, retrievalMode: mode,
                values: TemplateValues(
                    shopName: tenant.resolvedBranding.name ?? tenant.name, botName: snapshot.bot.displayName(language), channel: .test),
                now: clock.now())
            if llm != .off {
                turn.model = evaluationAccess(snapshot, tenant: tenant)
                if llm == .on, turn.model == nil { throw NoModelToEvaluate() }
            }
            let answer = try await pipeline.answer(&turn)
            return (answer, mode, turn)
        }
    }
}

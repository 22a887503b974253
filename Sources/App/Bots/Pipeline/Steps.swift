import Foundation

/// A shopper asking for a person, or using a word the shop hands off on.
public struct HandoffStep: AnswerStep {
    public var kind: AnswerStepKind { .handoff }
    public init() {}

    public func answer(_ turn: inout Turn) async throws -> BotAnswer? {
        let bot = turn.snapshot.bot
        if bot.handoffOnRequest, HandoffRequest.isRequest(turn.message) {
            return Self.handOff(.shopperRequest, &turn)
        }
        let keywords = bot.handoffKeywords.map(NormalizedText.init).filter { !$0.isEmpty }
        if let keyword = keywords.first(where: { RuleMatcher.contains(turn.message, $0) }) {
            var answer = Self.handOff(.keyword, &turn)
            answer.notes.append("keyword: \(keyword.text)")
            return answer
        }
        return nil
    }

    /// The hand-off message: the shop's away message outside business hours, else a sentence saying a person comes.
    /// The note a hand-off outside the shop's hours carries (the engine checks it against who is online).
    static let outsideHours = "outside business hours"

    static func handOff(_ reason: HandoffReason, _ turn: inout Turn, step: AnswerStepKind = .handoff) -> BotAnswer {
        let bot = turn.snapshot.bot
        let closed = bot.hours.map { !$0.isOpen(at: turn.now) } ?? false
        let text: String
        if closed {
            text = bot.awayMessage.isEmpty ? BotTexts.away(turn.language) : ResponseTemplates.render(text: bot.awayMessage, turn.values)
        } else {
            text = reason == .quota ? BotTexts.quota(turn.language) : BotTexts.handoff(turn.language)
        }
        var answer = BotAnswer(step: step, text: text, handoff: reason)
        if closed { answer.notes.append(outsideHours) }
        return answer
    }
}

/// Greetings, thanks, goodbyes, "how are you", "who are you".
public struct SmallTalkStep: AnswerStep {
    public var kind: AnswerStepKind { .smallTalk }
    public init() {}

    public func answer(_ turn: inout Turn) async throws -> BotAnswer? {
        guard let kind = SmallTalk.classify(turn.message) else { return nil }
        var text = ResponseTemplates.render(text: BotTexts.smallTalk(kind, turn.language), turn.values)
        if kind == .greeting {
            // A greeting is answered with the bot's own, which says who it is and what to ask.
            let greeting = turn.snapshot.bot.greeting.isEmpty ? BotTexts.greeting(turn.language) : turn.snapshot.bot.greeting
            text = ResponseTemplates.render(text: greeting, turn.values)
        }
        var answer = BotAnswer(step: .smallTalk, text: text)
        answer.notes.append("small talk: \(kind.rawValue)")
        return answer
    }
}

/// The shop's rules, in order: the first that matches acts.
public struct RulesStep: AnswerStep {
    public var kind: AnswerStepKind { .rule }
    let retriever: Retriever

    public init(retriever: Retriever) {
        self.retriever = retriever
    }

    public func answer(_ turn: inout Turn) async throws -> BotAnswer? {
        var skipped = Set<String>()
        while let rule = turn.snapshot.rules.match(turn.message, stems: turn.analysis.allStems, skipping: skipped) {
            skipped.insert(rule.name)
            switch rule.action {
            case .reply(let name):
                guard let text = turn.snapshot.templates.render(name, turn.values) else { continue }
                let buttons = turn.snapshot.templates.template(name)?.buttons ?? []
                return BotAnswer(
                    step: .rule, text: text, parts: buttons.map { MessagePart(type: .button, title: $0) }, rule: rule.name)
            case .show(let slug):
                guard let index = turn.snapshot.knowledge.entry(slug: slug) else { continue }
                var answer = KnowledgeStep.answer(entry: index, passage: nil, &turn)
                answer.step = .rule
                answer.rule = rule.name
                answer.score = nil
                return answer
            case .handOff:
                var answer = HandoffStep.handOff(.rule, &turn, step: .rule)
                answer.rule = rule.name
                return answer
            case .setField(let field, let value):
                // Recorded, and the pipeline goes on: the shopper still gets an answer.
                turn.fields[field] = value
            }
        }
        return nil
    }
}

extension RuleMatcher {
    /// The first matching rule not in `skipping` (rules whose action could not be carried out, or that set a field).
    func match(_ message: NormalizedText, stems: Set<String>, skipping: Set<String>) -> Rule? {
        rules.first { !skipping.contains($0.rule.name) && matches($0, message, stems: stems) }?.rule
    }
}

/// The shop's FAQ entries and help articles, ranked; asks back when the two best are too close to tell apart.
public struct KnowledgeStep: AnswerStep {
    public var kind: AnswerStepKind { .knowledge }
    let retriever: Retriever

    public init(retriever: Retriever) {
        self.retriever = retriever
    }

    public func answer(_ turn: inout Turn) async throws -> BotAnswer? {
        let decided = decide(&turn)
        // With a model at hand, the model answers in the bot's words; this answer stays for when it cannot.
        guard turn.model == nil else {
            turn.retrievalAnswer = decided
            return nil
        }
        return decided
    }

    /// What retrieval answers on its own: the best entry, a question back, or nothing (below the threshold).
    func decide(_ turn: inout Turn) -> BotAnswer? {
        let candidates = turn.ranked(retriever)
        let threshold = turn.threshold(retriever.tuning)
        guard let top = candidates.first, top.score >= threshold else { return nil }
        if candidates.count > 1 {
            let second = candidates[1]
            if second.score >= threshold, top.relevance - second.relevance < retriever.tuning.clarifyMargin,
                !Self.related(top.entry, second.entry, turn.snapshot.knowledge)
            {
                let entries = [top, second].map { turn.snapshot.knowledge.entries[$0.entry] }
                var answer = BotAnswer(
                    step: .clarify, text: BotTexts.clarify(turn.language),
                    parts: entries.map { MessagePart(type: .button, title: $0.title) }, score: AnswerPipeline.rounded(top.score))
                answer.notes.append("the two best candidates are within \(retriever.tuning.clarifyMargin)")
                return answer
            }
        }
        var answer = Self.answer(entry: top.entry, passage: top.passage, &turn)
        answer.score = AnswerPipeline.rounded(top.score)
        return answer
    }

    /// Whether two entries answer the same thing: a FAQ entry that links to the article (its answer points there).
    static func related(_ a: Int, _ b: Int, _ knowledge: KnowledgeIndex) -> Bool {
        let first = knowledge.entries[a]
        let second = knowledge.entries[b]
        func links(_ faq: KnowledgeEntry, _ article: KnowledgeEntry) -> Bool {
            faq.source == .faq && article.source == .article && faq.buttons.contains { $0.url == "/help/" + article.slug }
        }
        return links(first, second) || links(second, first)
    }

    /// An entry as an answer: a FAQ entry's answer and buttons; an article's best paragraph and a link to it.
    static func answer(entry index: Int, passage: Int?, _ turn: inout Turn) -> BotAnswer {
        let knowledge = turn.snapshot.knowledge
        let entry = knowledge.entries[index]
        let reference = EntryReference(source: entry.source, slug: entry.slug, title: entry.title)
        var parts = entry.buttons.map { MessagePart(type: .link, title: $0.title, url: $0.url) }
        let text: String
        if let answer = entry.answer {
            text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            let matched = passage.map { knowledge.passages[$0] }
            let paragraph =
                matched?.part == .paragraph
                ? matched : knowledge.passages.first { $0.entry == index && $0.part == .paragraph }
            text = paragraph?.text ?? entry.title
            parts.append(MessagePart(type: .link, title: entry.title, url: "/help/" + entry.slug))
        }
        return BotAnswer(step: .knowledge, text: text, parts: parts, entry: reference)
    }
}

/// Nothing answered: the fallback text, and a hand-off once the shop's number of fallbacks in a row is reached.
public struct FallbackStep: AnswerStep {
    public var kind: AnswerStepKind { .fallback }
    public init() {}

    public func answer(_ turn: inout Turn) async throws -> BotAnswer? {
        Self.fallback(&turn)
    }

    static func fallback(_ turn: inout Turn) -> BotAnswer {
        let bot = turn.snapshot.bot
        if bot.handoffAfterFallbacks > 0, turn.fallbacksInRow + 1 >= bot.handoffAfterFallbacks {
            var answer = HandoffStep.handOff(.fallbacks, &turn)
            answer.notes.append("\(turn.fallbacksInRow + 1) fallback(s) in a row")
            return answer
        }
        let text = bot.fallback.isEmpty ? BotTexts.fallback(turn.language) : ResponseTemplates.render(text: bot.fallback, turn.values)
        return BotAnswer(step: .fallback, text: text)
    }
}

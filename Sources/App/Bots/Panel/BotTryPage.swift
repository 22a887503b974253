import Foundation

/// The test chat's page: the conversation's messages, each bot answer with its explanation.
struct BotTryPage {
    struct Candidate {
        let title: String
        let entry: String
        let source: String
        let score: String
        let lexical: String
        let semantic: String?
        let chosen: Bool
    }

    struct Why {
        let step: String
        let entryTitle: String?
        let entrySlug: String?
        let rule: String?
        let score: String?
        let threshold: String?
        let retrieval: String
        let handoff: String?
        let candidates: [Candidate]
        let hasCandidates: Bool
        let notes: [String]
        let hasNotes: Bool
        var model: Model? = nil
    }

    /// The language model's part of an explanation: which model, how long, how many tokens, what it was sent and
    /// cited, and why its reply was not used when it was not.
    struct Model {
        struct Passage {
            let text: String
            let cited: Bool
        }
        let name: String
        let milliseconds: Int
        let tokens: String?
        let passages: [Passage]
        let refused: String?
    }

    struct Link {
        let title: String
        let url: String
    }

    struct Message {
        /// `shopper`, `bot`, `operator` or `system` (the bubble's class).
        let author: String
        let authorLabel: String
        let text: String
        let time: String
        let replies: [String]
        let links: [Link]
        let hasParts: Bool
        let why: Why?
        /// The bot's picture beside its own messages.
        var avatarURL: String? = nil
    }

    let action = PanelURL.botTry.path
    let newURL = PanelURL.botTry.path
    let conversationID: String
    let botName: String
    let botAvatarURL: String?
    let botInitial: String
    let messages: [Message]
    let empty: Bool
    let state: String?
    let stateNote: String?
    let typed: String
    let error: String?
    /// Quick replies of the last bot message, offered again under the input.
    let replies: [String]
    let hasReplies: Bool

    init(
        bot: Bot?, conversation: TryConversation?, messages stored: [StoredMessage], typed: String, error: String?,
        t: [String: String], language: String
    ) {
        conversationID = conversation.map { String($0.id) } ?? ""
        let botLanguage = BotLanguage(rawValue: language) ?? .ru
        let name = bot?.displayName(botLanguage) ?? BotTexts.defaultName(botLanguage)
        botName = name
        botAvatarURL = bot?.avatarURL
        botInitial = name.first.map { String($0).uppercased() } ?? "?"
        let messages = stored.map { stored in
            var message = Self.message(stored, botName: name, t: t, language: language)
            if stored.author == .bot { message.avatarURL = bot?.avatarURL }
            return message
        }
        self.messages = messages
        empty = messages.isEmpty
        state = conversation.map { t["bot_state_" + $0.state.rawValue] ?? $0.state.rawValue }
        stateNote = conversation.flatMap { $0.state.botAnswers ? nil : t["bot_try_people_have_it"] }
        self.typed = typed
        self.error = error
        let last = messages.last(where: { $0.author == MessageAuthor.bot.rawValue })
        replies = conversation?.state.botAnswers == true ? (last?.replies ?? []) : []
        hasReplies = !replies.isEmpty
    }

    static func message(_ stored: StoredMessage, botName: String, t: [String: String], language: String) -> Message {
        let label: String
        switch stored.author {
        case .shopper: label = t["bot_author_shopper"] ?? ""
        case .bot: label = botName
        case .operator: label = t["bot_author_operator"] ?? ""
        case .system: label = t["bot_author_system"] ?? ""
        }
        let replies = stored.parts.filter { $0.type == .button }.map(\.title)
        let links = stored.parts.filter { $0.type == .link }.compactMap { part in part.url.map { Link(title: part.title, url: $0) } }
        return Message(
            author: stored.author.rawValue, authorLabel: label, text: stored.text,
            time: DateText.dateTime(stored.createdAt, language: language),
            replies: replies, links: links, hasParts: !replies.isEmpty || !links.isEmpty,
            why: stored.explanation.flatMap { why($0, t: t, language: language) })
    }

    /// The stored explanation as the page shows it; nil when it cannot be read.
    static func why(_ json: String, t: [String: String], language: String) -> Why? {
        guard let explanation = try? JSONDecoder().decode(Explanation.self, from: Data(json.utf8)) else { return nil }
        let chosen = explanation.entry?.slug
        let candidates = explanation.candidates.prefix(5).map { candidate in
            Candidate(
                title: candidate.title, entry: candidate.entry,
                source: t["bot_source_" + candidate.source.rawValue] ?? candidate.source.rawValue,
                score: BotPanel.score(candidate.score, language: language) ?? "",
                lexical: BotPanel.score(candidate.lexical, language: language) ?? "",
                semantic: BotPanel.score(candidate.semantic, language: language),
                chosen: candidate.entry == chosen && (explanation.step == .knowledge || explanation.step == .rule))
        }
        let threshold = explanation.threshold ?? Retriever.defaultThreshold
        return Why(
            step: t["bot_step_" + explanation.step.rawValue] ?? explanation.step.rawValue, entryTitle: explanation.entry?.title,
            entrySlug: explanation.entry?.slug, rule: explanation.rule, score: BotPanel.score(explanation.score, language: language),
            threshold: BotPanel.score(threshold, language: language), retrieval: explanation.retrieval,
            handoff: explanation.handoff.map { t["bot_handoff_" + $0.rawValue] ?? $0.rawValue }, candidates: Array(candidates),
            hasCandidates: !candidates.isEmpty, notes: explanation.notes, hasNotes: !explanation.notes.isEmpty,
            model: explanation.model.map { model(of: $0, t: t) })
    }

    static func model(of report: ModelReport, t: [String: String]) -> Model {
        let tokens = report.tokens.map { usage in
            "\(usage.prompt) + \(usage.completion) = \(usage.total) \(t["bot_why_tokens"] ?? "")"
                + (usage.estimated ? " (\(t["bot_why_estimated"] ?? ""))" : "")
        }
        // `p1 faq:delivery-time`: cited when its entry is among the citations.
        let passages = report.passages.map { passage in
            Model.Passage(text: passage, cited: report.citations.contains { passage.hasSuffix(" " + $0) })
        }
        return Model(name: report.model, milliseconds: report.milliseconds, tokens: tokens, passages: passages, refused: report.refused)
    }
}

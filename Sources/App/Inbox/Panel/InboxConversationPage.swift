import Foundation

/// Everything a conversation's page reads, in one transaction.
struct InboxConversationData: Sendable {
    let conversation: InboxConversation
    let messages: [InboxMessage]
    let events: [InboxEvent]
    let teammates: [(id: UUID, name: String, online: Bool)]
    let templates: [ResponseTemplate]
    let waitingCount: Int
    let targetWait: Int
    /// WhatsApp with its 24-hour window closed: the connection's approved templates (nil while the window is open).
    var window: [WhatsAppTemplate]? = nil
}

/// A conversation in the inbox (`/admin/inbox/<id>`): its history with notes and the bot's explanations, the contact,
/// the state and what the operator can do about it.
struct InboxConversationPage {
    struct Message {
        let id: Int
        /// `shopper`, `bot`, `operator`, `system` or `note` (the bubble's class).
        let kind: String
        let label: String
        let isNote: Bool
        let text: String
        let hasText: Bool
        let time: String
        let timeFull: String
        let timeISO: String
        let delivery: String?
        let failed: Bool
        /// Why it failed, as a sentence for people, with the provider's words.
        let problem: String?
        /// The files a shopper sent (a photo, a document, a voice note).
        let attachments: [String]
        let replies: [String]
        let links: [BotTryPage.Link]
        let hasParts: Bool
        let why: BotTryPage.Why?
    }

    struct Event {
        let text: String
        let actor: String?
        let time: String
        let timeFull: String
    }

    struct Field {
        let name: String
        let value: String
    }

    struct TemplateOption {
        let name: String
        let text: String
    }

    let inboxHeader: InboxHeader
    let id: Int
    let name: String
    let state: String
    let stateClass: String
    let assignee: String?
    let waited: String?
    let waitingSince: Int?
    let overdue: Bool
    let targetWait: Int
    let channel: String
    let botName: String
    let language: String?
    let started: String
    let email: String?
    let phone: String?
    let fields: [Field]
    let hasFields: Bool
    let csat: String?
    let csatStars: String?
    let csatComment: String?
    let messages: [Message]
    let empty: Bool
    let events: [Event]
    let navBadge: String?
    /// The page's own address (inbox.js reads it again; after a refused form the browser's address is the form's).
    let pageURL: String

    // The operator's forms (nil/false for viewers).
    let canAnswer: Bool
    /// WhatsApp's window is closed: only a template may go (`windowTemplates`, possibly none).
    let windowClosed: Bool
    let windowTemplates: [SelectOption]
    let hasWindowTemplates: Bool
    let replyURL: String
    let noteURL: String
    let actionURL: String
    let typingURL: String
    let suggestURL: String
    let deleteContactURL: String?
    var typed = ""
    var error: String?
    /// After "Suggest a reply": what the draft rests on ("Based on: …").
    var suggested: String?
    var templates: [TemplateOption] = []
    let hasTemplates: Bool
    let teammates: [SelectOption]
    let hasTeammates: Bool
    let canTake: Bool
    let takeLabel: String
    let canRelease: Bool
    let canResolve: Bool
    let canHandBack: Bool
    let isMine: Bool

    init(
        _ data: InboxConversationData, header: InboxHeader, user: UUID, canAnswer: Bool, canManage: Bool, t: [String: String],
        language: String, now: Date
    ) {
        let conversation = data.conversation
        let id = conversation.id
        inboxHeader = header
        self.id = id
        name = InboxPanel.contactName(conversation.contactName, email: conversation.contactEmail, id: conversation.contactID, t: t)
        state = InboxPanel.state(conversation.state, t: t)
        stateClass = "inbox-state-" + conversation.state.rawValue
        isMine = conversation.state == .assigned && conversation.assigneeID == user
        assignee =
            conversation.state == .assigned
            ? (isMine ? t["inbox_assignee_you"] : conversation.assigneeName).map {
                (t["inbox_assignee"] ?? "%s").replacingOccurrences(of: "%s", with: $0)
            } : nil
        let waitingSince = conversation.state == .waiting ? conversation.waitingSince : nil
        let waited = waitingSince.map { max(0, Int(now.timeIntervalSince($0))) }
        self.waited = waited.map { InboxPanel.waited($0, t: t) }
        self.waitingSince = waitingSince.map { Int($0.timeIntervalSince1970) }
        overdue = (waited ?? 0) > data.targetWait
        targetWait = data.targetWait
        channel = InboxPanel.channel(conversation.channel, t: t)
        let botLanguage = conversation.language ?? BotLanguage(rawValue: language) ?? .ru
        botName = conversation.botName.isEmpty ? BotTexts.defaultName(botLanguage) : conversation.botName
        self.language = conversation.language.map { t["bot_language_" + $0.rawValue] ?? $0.rawValue }
        started = DateText.dateTime(conversation.createdAt, language: language)
        email = conversation.contactEmail.flatMap { $0.isEmpty ? nil : $0 }
        phone = conversation.contactPhone.flatMap { $0.isEmpty ? nil : $0 }
        fields = conversation.contactFields.sorted { $0.key < $1.key }.map { Field(name: $0.key, value: $0.value) }
        hasFields = !fields.isEmpty
        csat = conversation.csat.map { (t["inbox_csat_value"] ?? "%n").replacingOccurrences(of: "%n", with: String($0)) }
        csatStars = conversation.csat.map { String(repeating: "★", count: $0) + String(repeating: "☆", count: max(0, 5 - $0)) }
        csatComment = conversation.csatComment.flatMap { $0.isEmpty ? nil : $0 }
        let contactName = name
        let botName = botName
        messages = data.messages.map {
            Self.message($0, contactName: contactName, botName: botName, user: user, t: t, language: language, now: now)
        }
        empty = messages.isEmpty
        events = data.events.map { Self.event($0, t: t, language: language, now: now) }
        navBadge = data.waitingCount > 0 ? NumberText.format(data.waitingCount, language: language) : nil
        pageURL = PanelURL.inboxConversation(id).path

        self.canAnswer = canAnswer
        windowClosed = data.window != nil
        windowTemplates = (data.window ?? []).map {
            SelectOption(value: $0.name, label: $0.name + " (" + $0.language + "): " + $0.text, selected: false)
        }
        hasWindowTemplates = !windowTemplates.isEmpty
        replyURL = PanelURL.inboxReply(id).path
        noteURL = PanelURL.inboxNote(id).path
        actionURL = PanelURL.inboxAction(id).path
        typingURL = PanelURL.inboxTyping(id).path
        suggestURL = PanelURL.inboxSuggest(id).path
        deleteContactURL =
            canManage ? PanelURL.inboxContactDelete(conversation.contactID).path(query: [("conversation", String(id))]) : nil
        hasTemplates = !data.templates.isEmpty
        teammates = data.teammates.filter { $0.id != conversation.assigneeID }.map { mate in
            SelectOption(
                value: mate.id.uuidString.lowercased(),
                label: mate.online ? (t["inbox_teammate_online"] ?? "%s").replacingOccurrences(of: "%s", with: mate.name) : mate.name,
                selected: false)
        }
        hasTeammates = !teammates.isEmpty
        canTake = !isMine
        takeLabel =
            switch conversation.state {
            case .bot: t["inbox_take_from_bot"] ?? ""
            case .resolved: t["inbox_take_reopen"] ?? ""
            case .waiting, .assigned: t["inbox_take"] ?? ""
            }
        canRelease = conversation.state == .assigned
        canResolve = conversation.state == .waiting || conversation.state == .assigned
        canHandBack = conversation.state == .waiting || conversation.state == .assigned
    }

    static func message(
        _ message: InboxMessage, contactName: String, botName: String, user: UUID, t: [String: String], language: String, now: Date
    ) -> Message {
        let label: String
        switch message.author {
        case .shopper: label = contactName
        case .bot: label = botName
        case .operator:
            label = message.authorID == user ? (t["inbox_author_you"] ?? "") : (message.authorName ?? t["bot_author_operator"] ?? "")
        case .system: label = t["bot_author_system"] ?? ""
        }
        let replies = message.parts.filter { $0.type == .button }.map(\.title)
        let links = message.parts.filter { $0.type == .link }.compactMap { part in
            part.url.map { BotTryPage.Link(title: part.title, url: $0) }
        }
        // Messengers report every outbound message's fate; the widget only operators' (the bot's are read with them).
        let reported = message.author == .operator || message.delivery == "failed" || message.delivery == "queued"
        let delivery = message.author != .shopper && !message.internalNote && reported ? message.delivery : nil
        let attachments = message.parts.filter { $0.type == .attachment }.map { part in
            (t["inbox_attachment_" + (part.attachment?.kind.rawValue ?? "")] ?? "📎") + " " + part.title
        }
        return Message(
            id: message.id, kind: message.internalNote ? "note" : message.author.rawValue, label: label, isNote: message.internalNote,
            text: message.text, hasText: !message.text.isEmpty, time: when(message.createdAt, now: now, language: language),
            timeFull: DateText.dateTime(message.createdAt, language: language), timeISO: InboxPanel.iso(message.createdAt),
            delivery: delivery.map { t["inbox_delivery_" + $0] ?? $0 }, failed: delivery == "failed",
            problem: delivery == "failed" ? problem(message.deliveryError, t: t) : nil, attachments: attachments, replies: replies,
            links: links,
            hasParts: !replies.isEmpty || !links.isEmpty, why: message.explanation.flatMap { why($0, t: t, language: language) })
    }

    /// A failed delivery's reason for people: the refusal's sentence, then the provider's own words.
    static func problem(_ error: String?, t: [String: String]) -> String? {
        guard let error, !error.isEmpty else { return nil }
        guard let colon = error.firstIndex(of: ":") else { return error }
        let kind = String(error[..<colon])
        let detail = error[error.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard let sentence = t["channel_refused_" + kind] else { return error }
        return detail.isEmpty ? sentence : sentence + " (" + detail + ")"
    }

    /// The explanation as "Try the bot" shows it.
    static func why(_ explanation: Explanation, t: [String: String], language: String) -> BotTryPage.Why? {
        guard let json = try? JSONEncoder().encode(explanation) else { return nil }
        return BotTryPage.why(String(decoding: json, as: UTF8.self), t: t, language: language)
    }

    static func event(_ event: InboxEvent, t: [String: String], language: String, now: Date) -> Event {
        var key = "inbox_event_" + event.reason
        if event.reason == "taken" {
            if event.from == .assigned { key = "inbox_event_reassigned" }
            if event.from == .resolved { key = "inbox_event_reopened" }
        }
        let text: String
        if let known = t[key] {
            text = known
        } else if HandoffReason(rawValue: event.reason) != nil {
            text = (t["inbox_event_handoff"] ?? "%s").replacingOccurrences(
                of: "%s", with: t["inbox_reason_" + event.reason] ?? event.reason)
        } else {
            text = event.reason
        }
        let actor: String? =
            switch event.actor {
            case .operator: event.actorName ?? t["bot_author_operator"]
            case .bot: nil
            case .shopper: nil
            case .system: t["bot_author_system"]
            }
        return Event(
            text: text, actor: actor, time: when(event.createdAt, now: now, language: language),
            timeFull: DateText.dateTime(event.createdAt, language: language))
    }

    /// "14:05" today, "5 мар, 14:05" another day.
    static func when(_ date: Date, now: Date, language: String) -> String {
        let clock = InboxPanel.clock(date)
        let day = InboxPanel.shortTime(date, now: now, language: language)
        return day == clock ? clock : day + ", " + clock
    }
}

import Foundation

/// One request body of `POST /<phone number id>/messages`, in the Cloud API's shape.
public struct WhatsAppOutgoing: Encodable, Sendable, Equatable {
    public struct Text: Encodable, Sendable, Equatable {
        public var body: String
        public var previewURL = true
        enum CodingKeys: String, CodingKey {
            case body
            case previewURL = "preview_url"
        }
    }

    public struct Interactive: Encodable, Sendable, Equatable {
        public struct Body: Encodable, Sendable, Equatable { public var text: String }
        public struct Reply: Encodable, Sendable, Equatable { public var id: String, title: String }
        public struct Button: Encodable, Sendable, Equatable {
            public var type = "reply"
            public var reply: Reply
        }
        public struct Section: Encodable, Sendable, Equatable { public var rows: [Reply] }
        public struct Action: Encodable, Sendable, Equatable {
            /// Reply buttons (`type: button`).
            public var buttons: [Button]?
            /// A list's button label and its rows (`type: list`).
            public var button: String?
            public var sections: [Section]?
        }

        /// `button` or `list`.
        public var type: String
        public var body: Body
        public var action: Action
    }

    public struct Template: Encodable, Sendable, Equatable {
        public struct Language: Encodable, Sendable, Equatable { public var code: String }
        public var name: String
        public var language: Language
    }

    public var messagingProduct = "whatsapp"
    public var recipientType = "individual"
    public var to: String
    /// `text`, `interactive` or `template`.
    public var type: String
    public var text: Text?
    public var interactive: Interactive?
    public var template: Template?

    enum CodingKeys: String, CodingKey {
        case to, type, text, interactive, template
        case messagingProduct = "messaging_product"
        case recipientType = "recipient_type"
    }

    /// The body as JSON bytes.
    public var json: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }
}

/// How an outbound message becomes Cloud API messages: a text (split at 4,096 characters, links as "title: url" lines),
/// up to 3 quick replies as reply buttons, 4 to 10 as a list, or the approved template an operator picked.
public enum WhatsAppRendering {
    /// A text message's most characters (counted in UTF-16 code units, as Meta counts them, so never too many).
    public static let textLimit = 4096
    /// Reply buttons' body text.
    public static let buttonBodyLimit = 1024
    /// A list message's body text.
    public static let listBodyLimit = 4096
    public static let buttonTitleLimit = 20
    public static let rowTitleLimit = 24
    public static let maxButtons = 3
    public static let maxRows = 10

    /// The requests that send `message` to `to`, in order; none for a message with nothing to say.
    public static func render(_ message: OutboundMessage, to: String) -> [WhatsAppOutgoing] {
        if let template = message.template {
            return [
                WhatsAppOutgoing(
                    to: to, type: "template", template: .init(name: template.name, language: .init(code: template.language)))
            ]
        }
        let text = fullText(message)
        let titles = quickReplies(message.parts)
        guard !titles.isEmpty else { return split(text).map { textMessage($0, to: to) } }
        let list = titles.count > maxButtons
        let cut = list ? rowTitleLimit : buttonTitleLimit
        let replies = unique(titles.map { self.cut($0, to: cut) }).prefix(list ? maxRows : maxButtons).enumerated().map {
            WhatsAppOutgoing.Interactive.Reply(id: "b\($0.offset)", title: $0.element)
        }
        let action =
            list
            ? WhatsAppOutgoing.Interactive.Action(button: listLabel(message.language), sections: [.init(rows: replies)])
            : WhatsAppOutgoing.Interactive.Action(buttons: replies.map { .init(reply: $0) })
        var messages: [WhatsAppOutgoing] = []
        var body = text
        if text.isEmpty || length(text) > (list ? listBodyLimit : buttonBodyLimit) {
            messages = split(text).map { textMessage($0, to: to) }
            body = shortBody(message.language)
        }
        let interactive = WhatsAppOutgoing.Interactive(type: list ? "list" : "button", body: .init(text: body), action: action)
        messages.append(WhatsAppOutgoing(to: to, type: "interactive", interactive: interactive))
        return messages
    }

    /// The text with the links under it, one "title: url" line each.
    static func fullText(_ message: OutboundMessage) -> String {
        let links = message.parts.filter { $0.type == .link }.compactMap { part -> String? in
            guard let url = part.url?.trimmingCharacters(in: .whitespaces), !url.isEmpty else { return nil }
            let title = part.title.trimmingCharacters(in: .whitespacesAndNewlines)
            return title.isEmpty ? url : title + ": " + url
        }
        let text = message.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !links.isEmpty else { return text }
        return (text.isEmpty ? "" : text + "\n\n") + links.joined(separator: "\n")
    }

    private static func quickReplies(_ parts: [MessagePart]) -> [String] {
        parts.filter { $0.type == .button }.map { $0.title.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    private static func unique(_ titles: [String]) -> [String] {
        var seen = Set<String>()
        return titles.filter { seen.insert($0).inserted }
    }

    private static func textMessage(_ body: String, to: String) -> WhatsAppOutgoing {
        WhatsAppOutgoing(to: to, type: "text", text: .init(body: body))
    }

    /// The list's button label, in the message's language.
    static func listLabel(_ language: BotLanguage) -> String { language == .ru ? "Варианты" : "Options" }

    /// The buttons' body when the text went before them.
    static func shortBody(_ language: BotLanguage) -> String { language == .ru ? "Выберите вариант:" : "Choose an option:" }

    /// A length as Meta counts it: UTF-16 code units.
    public static func length(_ text: String) -> Int { text.utf16.count }

    /// `text` cut to at most `limit` UTF-16 code units, never inside a character, trailing spaces dropped.
    public static func cut(_ text: String, to limit: Int) -> String {
        guard length(text) > limit else { return text }
        var units = 0
        var end = text.startIndex
        for index in text.indices {
            units += text[index].utf16.count
            if units > limit { break }
            end = text.index(after: index)
        }
        return String(text[..<end]).trimmingCharacters(in: .whitespaces)
    }

    /// `text` in pieces of at most `limit` characters, cut at a line break or else a space in the piece's second half
    /// when there is one; none for an empty text.
    public static func split(_ text: String, limit: Int = textLimit) -> [String] {
        var pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            let head = cut(String(rest), to: limit)
            guard head.count < rest.count else {
                pieces.append(String(rest))
                break
            }
            var end = head.endIndex
            let half = head.index(head.startIndex, offsetBy: head.count / 2)
            if let newline = head[half...].lastIndex(of: "\n") {
                end = newline
            } else if let space = head[half...].lastIndex(of: " ") {
                end = space
            }
            let piece = head[..<end].trimmingCharacters(in: .whitespacesAndNewlines)
            if !piece.isEmpty { pieces.append(piece) }
            rest = rest.dropFirst(head[..<end].count).drop { $0.isWhitespace }
        }
        return pieces.filter { !$0.isEmpty }
    }
}

import Foundation

/// A Bot API inline keyboard (`reply_markup`), as `sendMessage` takes it.
public struct TelegramKeyboard: Sendable, Codable, Equatable {
    public struct Button: Sendable, Codable, Equatable {
        public var text: String
        public var url: String?
        public var callbackData: String?

        public init(text: String, url: String? = nil, callbackData: String? = nil) {
            self.text = text
            self.url = url
            self.callbackData = callbackData
        }

        enum CodingKeys: String, CodingKey {
            case text, url
            case callbackData = "callback_data"
        }
    }

    public var rows: [[Button]]

    public init(rows: [[Button]]) {
        self.rows = rows
    }

    enum CodingKeys: String, CodingKey {
        case rows = "inline_keyboard"
    }
}

/// One `sendMessage` a message becomes: its text in Telegram's HTML, and the keyboard (on the last one only).
public struct TelegramOutgoing: Sendable, Equatable {
    public var html: String
    public var keyboard: TelegramKeyboard?

    public init(html: String, keyboard: TelegramKeyboard? = nil) {
        self.html = html
        self.keyboard = keyboard
    }
}

/// How a bot's message looks in Telegram: HTML-escaped text (`parse_mode: HTML`), links as URL buttons, quick replies
/// as callback buttons carrying their title, and a long text split into several messages. Pure functions.
public enum TelegramRendering {
    /// A message's most characters after entities are parsed (the Bot API's `sendMessage`). Counted here in UTF-16 code
    /// units, which is never fewer than Telegram's own count, so a chunk is never refused as too long.
    public static let maxLength = 4096
    /// `callback_data`'s most bytes.
    public static let maxCallbackBytes = 64
    /// Two quick replies this short (in characters) share a row.
    static let shortTitle = 16
    /// The text of a message that has only buttons (Telegram refuses an empty one).
    static let buttonsOnlyText = "…"

    /// The messages to send, in order; none when there is nothing to say.
    public static func render(_ message: OutboundMessage) -> [TelegramOutgoing] {
        let keyboard = keyboard(for: message.parts)
        var text = message.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty {
            guard keyboard != nil else { return [] }
            text = buttonsOnlyText
        }
        var chunks = split(text).map { TelegramOutgoing(html: escape($0)) }
        chunks[chunks.count - 1].keyboard = keyboard
        return chunks
    }

    /// `text` safe for `parse_mode: HTML`: `&`, `<` and `>` as entities.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `text` in pieces of at most `limit` UTF-16 code units, each cut at the last paragraph break in its second half,
    /// else the last line break, sentence end or space there, else the last space at all, else between two characters.
    public static func split(_ text: String, limit: Int = maxLength) -> [String] {
        var pieces: [String] = []
        var rest = Substring(text)
        while rest.utf16.count > limit {
            let window = prefix(rest, utf16: limit)
            let cut = boundary(in: window)
            let piece = window[..<cut].trimmingCharacters(in: .whitespacesAndNewlines)
            if !piece.isEmpty { pieces.append(piece) }
            rest = rest[cut...].drop { $0.isWhitespace || $0.isNewline }
        }
        let last = rest.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty || pieces.isEmpty { pieces.append(last) }
        return pieces
    }

    /// The longest prefix of whole characters within `limit` UTF-16 code units (at least one character).
    private static func prefix(_ text: Substring, utf16 limit: Int) -> Substring {
        var count = 0
        var end = text.startIndex
        for index in text.indices {
            count += text[index].utf16.count
            if count > limit { break }
            end = text.index(after: index)
        }
        return end == text.startIndex ? text.prefix(1) : text[..<end]
    }

    /// Where to cut `window`: just after the best boundary in it, else its end.
    private static func boundary(in window: Substring) -> Substring.Index {
        let half = window.index(window.startIndex, offsetBy: window.count / 2)
        let secondHalf = window[half...]
        if let range = secondHalf.range(of: "\n\n", options: .backwards) { return range.upperBound }
        if let index = secondHalf.lastIndex(where: \.isNewline) { return window.index(after: index) }
        for end in [". ", "! ", "? ", "… ", ".\n", "!\n", "?\n"] {
            if let range = secondHalf.range(of: end, options: .backwards) { return range.upperBound }
        }
        if let index = secondHalf.lastIndex(where: \.isWhitespace) { return window.index(after: index) }
        if let index = window.lastIndex(where: \.isWhitespace), index > window.startIndex { return window.index(after: index) }
        return window.endIndex
    }

    /// The inline keyboard for a message's parts, nil when none can be shown: links as URL buttons, quick replies as
    /// callback buttons, one a row, or two a row when both are short quick replies.
    public static func keyboard(for parts: [MessagePart]) -> TelegramKeyboard? {
        let buttons: [TelegramKeyboard.Button] = parts.compactMap { part in
            let title = part.title.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !title.isEmpty else { return nil }
            switch part.type {
            case .link:
                guard let url = part.url, let scheme = URL(string: url)?.scheme?.lowercased(), ["http", "https", "tg"].contains(scheme)
                else { return nil }
                return TelegramKeyboard.Button(text: title, url: url)
            case .button:
                return TelegramKeyboard.Button(text: title, callbackData: callbackData(title))
            case .attachment, .template:
                // A shopper's file and WhatsApp's template are kept with the message, not shown as buttons.
                return nil
            }
        }
        guard !buttons.isEmpty else { return nil }
        var rows: [[TelegramKeyboard.Button]] = []
        var index = 0
        while index < buttons.count {
            if index + 1 < buttons.count, isShortReply(buttons[index]), isShortReply(buttons[index + 1]) {
                rows.append([buttons[index], buttons[index + 1]])
                index += 2
            } else {
                rows.append([buttons[index]])
                index += 1
            }
        }
        return TelegramKeyboard(rows: rows)
    }

    private static func isShortReply(_ button: TelegramKeyboard.Button) -> Bool {
        button.callbackData != nil && button.text.count <= shortTitle
    }

    /// A quick reply's `callback_data`: its title, cut between characters to at most 64 UTF-8 bytes.
    public static func callbackData(_ title: String) -> String {
        var data = ""
        var bytes = 0
        for character in title {
            bytes += character.utf8.count
            if bytes > maxCallbackBytes { break }
            data.append(character)
        }
        if data.isEmpty, let scalar = title.unicodeScalars.first { data = String(scalar) }
        return data
    }
}

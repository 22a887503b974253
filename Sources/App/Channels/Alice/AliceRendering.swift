import Foundation

/// What one turn of the skill says, before it becomes Alice's JSON: the messages' texts in order (answers that were
/// not heard yet come first), their buttons and links, and whether the session ends.
public struct AliceSpeech: Sendable, Equatable {
    public var paragraphs: [String]
    public var parts: [MessagePart]
    public var endSession: Bool
    /// Kept by Alice for the session and sent back with the next turn.
    public var state: [String: AliceJSON]

    public init(_ paragraphs: [String], parts: [MessagePart] = [], endSession: Bool = false, state: [String: AliceJSON] = [:]) {
        self.paragraphs = paragraphs
        self.parts = parts
        self.endSession = endSession
        self.state = state
    }

    /// This turn followed by `other` (its buttons after ours; the session ends if either ends it).
    public func then(_ other: AliceSpeech) -> AliceSpeech {
        AliceSpeech(
            paragraphs + other.paragraphs, parts: parts + other.parts, endSession: endSession || other.endSession,
            state: state.merging(other.state) { $1 })
    }
}

/// Alice's answer from what a turn says: the text shown (no markup, at most 1,024 characters, cut at a sentence's
/// end), the words spoken (`SpeechText`), at most five buttons (quick replies that hide once used, links that stay),
/// and hand-offs told as a voice channel must: how to reach a person. Pure.
public enum AliceRendering {
    public static let maximumText = 1024
    public static let maximumButtons = 5
    public static let maximumTitle = 64
    public static let maximumURLBytes = 1024

    /// The response; relative links (`/help/delivery`) are made absolute on `linkBase` (`https://shop.example`).
    public static func response(_ speech: AliceSpeech, language: BotLanguage, linkBase: String?) -> AliceResponse {
        let joined = speech.paragraphs.filter { !$0.isEmpty }.joined(separator: "\n\n")
        let text = cut(SpeechText.display(joined), limit: maximumText)
        let tts = cut(SpeechText.speech(joined, language: language), limit: maximumText)
        return AliceResponse(
            response: AliceResponse.Body(
                text: text.isEmpty ? "…" : text, tts: tts.isEmpty ? "sil <[300]>" : tts,
                buttons: buttons(speech.parts, linkBase: linkBase), endSession: speech.endSession),
            sessionState: speech.state)
    }

    /// `text` within `limit` characters: cut after the last sentence that fits, else at a space with an ellipsis.
    public static func cut(_ text: String, limit: Int) -> String {
        guard text.count > limit else { return text }
        let head = String(text.prefix(limit))
        var end: String.Index?
        var index = head.startIndex
        while index < head.endIndex {
            let next = head.index(after: index)
            if ".!?…".contains(head[index]), next == head.endIndex || head[next].isWhitespace { end = next }
            index = next
        }
        if let end, head.distance(from: head.startIndex, to: end) >= limit / 3 {
            return String(head[..<end])
        }
        let shorter = String(head.prefix(limit - 1))
        guard let space = shorter.lastIndex(where: \.isWhitespace), space > shorter.startIndex else { return shorter + "…" }
        return String(shorter[..<space]) + "…"
    }

    /// Quick replies (`button` parts: pressing one says its title) and links (`link` parts with an http(s) address of
    /// at most 1,024 bytes), in order, at most five, each title at most 64 characters, none twice.
    public static func buttons(_ parts: [MessagePart], linkBase: String?) -> [AliceResponse.Button] {
        var buttons: [AliceResponse.Button] = []
        var seen = Set<String>()
        for part in parts where buttons.count < maximumButtons {
            let title = cut(part.title.trimmingCharacters(in: .whitespacesAndNewlines), limit: maximumTitle)
            guard !title.isEmpty else { continue }
            switch part.type {
            case .button:
                guard seen.insert("b:" + title).inserted else { continue }
                buttons.append(.init(title: title, payload: .object(["text": .string(title)]), url: nil, hide: true))
            case .link:
                guard let url = absolute(part.url, base: linkBase), url.utf8.count <= maximumURLBytes, seen.insert("l:" + url).inserted
                else { continue }
                buttons.append(.init(title: title, payload: nil, url: url, hide: false))
            case .attachment, .template:
                // A shopper's file or a WhatsApp template: nothing to press on a voice assistant.
                continue
            }
        }
        return buttons
    }

    /// An http(s) address, or a path made absolute on `base`; nil for anything else.
    static func absolute(_ url: String?, base: String?) -> String? {
        guard let url = url?.trimmingCharacters(in: .whitespaces), !url.isEmpty else { return nil }
        let lower = url.lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") { return url }
        if url.hasPrefix("/"), !url.hasPrefix("//"), let base { return base + url }
        return nil
    }

    /// How a shopper reaches a person, said when the bot hands the conversation off: the connection's contact (a phone
    /// to call, a chat to open, else as written) or, with none, that an operator answers in the shop's chat. The session
    /// ends: the voice assistant cannot wait for a person.
    public static func handoff(contact: String?, language: BotLanguage, localizer: Localizer) -> AliceSpeech {
        let lang = language.rawValue
        func text(_ key: String, _ value: String) -> String {
            localizer.text(key, lang).replacingOccurrences(of: "%s", with: value)
        }
        guard let contact = contact?.trimmingCharacters(in: .whitespacesAndNewlines), !contact.isEmpty else {
            return AliceSpeech([localizer.text("alice_handoff_none", lang)], endSession: true)
        }
        if let url = absolute(contact, base: nil) ?? (contact.lowercased().hasPrefix("t.me/") ? "https://" + contact : nil) {
            return AliceSpeech(
                [text("alice_handoff_chat", url)],
                parts: [MessagePart(type: .link, title: localizer.text("alice_handoff_chat_button", lang), url: url)],
                endSession: true)
        }
        if isPhone(contact) { return AliceSpeech([text("alice_handoff_phone", contact)], endSession: true) }
        return AliceSpeech([text("alice_handoff_other", contact)], endSession: true)
    }

    /// A phone number as people write one: digits (7 to 15), spaces, `+`, brackets and dashes only.
    static func isPhone(_ text: String) -> Bool {
        let digits = text.filter(\.isNumber).count
        return (7...15).contains(digits) && text.allSatisfy { $0.isNumber || " +-()".contains($0) }
    }
}

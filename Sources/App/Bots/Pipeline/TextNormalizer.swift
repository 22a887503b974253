import Foundation

/// A shopper's message as the pipeline reads it: lower case, `ё` as `е`, punctuation and emoji turned into spaces,
/// letters repeated three times or more kept once ("приииивет" → "привет"), single spaces.
public struct NormalizedText: Sendable, Equatable {
    public let original: String
    public let text: String
    public let words: [String]

    public init(_ original: String) {
        self.original = original
        var scalars = String.UnicodeScalarView()
        var last: Unicode.Scalar?
        var run = 0
        var pendingSpace = false
        for scalar in original.lowercased().unicodeScalars {
            let mapped: Unicode.Scalar = scalar == "ё" ? "е" : scalar
            let isWordPart =
                mapped.properties.isAlphabetic || mapped.properties.numericType != nil
                || (mapped == "-" && last.map { $0.properties.isAlphabetic } == true)
            guard isWordPart else {
                pendingSpace = !scalars.isEmpty
                last = nil
                run = 0
                continue
            }
            if pendingSpace {
                scalars.append(" ")
                pendingSpace = false
                last = nil
                run = 0
            }
            if mapped == last {
                run += 1
                // Three or more of the same letter are one ("ооочень"); two stay ("ссылка", "shipping").
                if run >= 2 && mapped.properties.isAlphabetic {
                    if run == 2 {
                        scalars.removeLast()
                    }
                    continue
                }
            } else {
                run = 0
            }
            scalars.append(mapped)
            last = mapped
        }
        var text = String(scalars)
        while text.hasSuffix("-") { text.removeLast() }
        self.text = text.trimmingCharacters(in: .whitespaces)
        words = self.text.split(separator: " ").map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "-")) }
            .filter { !$0.isEmpty }
    }

    /// Whether the message has anything to read (not only emoji or punctuation).
    public var isEmpty: Bool { words.isEmpty }

    /// The message as the shopper wrote it, white space collapsed: what an embedding model reads (it learned from
    /// natural text, case and punctuation included).
    public var forEmbedding: String { original.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
}

/// The languages the bot speaks.
public enum BotLanguage: String, Sendable, Codable, CaseIterable {
    case ru, en

    /// The language a text is written in, from its letters: Cyrillic is Russian, Latin English; `nil` when it has
    /// neither (digits, emoji).
    public static func detect(_ text: String) -> BotLanguage? {
        var cyrillic = 0
        var latin = 0
        for scalar in text.unicodeScalars where scalar.properties.isAlphabetic {
            switch scalar.value {
            case 0x0400...0x04FF: cyrillic += 1
            case 0x41...0x5A, 0x61...0x7A: latin += 1
            default: break
            }
        }
        if cyrillic == 0 && latin == 0 { return nil }
        return cyrillic >= latin ? .ru : .en
    }
}

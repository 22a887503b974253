import Foundation

/// An answer made fit for a voice assistant: `display` is what a screen shows (markup stripped, links kept), `speech`
/// what Alice says (links and emoji dropped; prices, percentages, units, abbreviations, days and hours written out the
/// way Alice's text-to-speech reads them right; phone numbers as groups of digits). Pure: the same text gives the same
/// words.
public enum SpeechText {
    /// The pause Alice makes between paragraphs.
    public static let pause = "sil <[300]>"

    /// The text to show: HTML and Markdown stripped, TTS markup removed, lines kept, one blank line between paragraphs.
    public static func display(_ text: String) -> String {
        plain(text).components(separatedBy: "\n\n").map { paragraph in
            paragraph.split(separator: "\n").map { collapse(String($0)) }.filter { !$0.isEmpty }.joined(separator: "\n")
        }.filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    /// The text to say, paragraphs separated by a pause.
    public static func speech(_ text: String, language: BotLanguage) -> String {
        paragraphs(text).map { sentence(spoken($0, language: language)) }.filter { !$0.isEmpty }.joined(separator: " \(pause) ")
    }

    /// The paragraphs of `text` as plain text, each line ended as a sentence so that Alice pauses between them.
    static func paragraphs(_ text: String) -> [String] {
        display(text).components(separatedBy: "\n\n").map { paragraph in
            paragraph.split(separator: "\n").map { sentence(String($0)) }.joined(separator: " ")
        }
    }

    /// A line ended with a full stop unless it ends with punctuation already; a colon left by a dropped link becomes one.
    static func sentence(_ line: String) -> String {
        var line = line.trimmingCharacters(in: .whitespaces)
        if line.hasSuffix(":") { line.removeLast() }
        guard let last = line.last else { return "" }
        return ".!?…;,".contains(last) ? line : line + "."
    }

    /// HTML tags and entities, Markdown (links, emphasis, headings, bullets, quotes, code) and Alice's TTS markup
    /// (pauses, sounds, stress marks) removed; paragraph breaks normalised to one blank line.
    static func plain(_ text: String) -> String {
        var text = text.replacingOccurrences(of: "\r\n", with: "\n")
        text = text.replacing(/sil\s*<\[\d+\]>/, with: " ")
        text = text.replacing(/(?i)<br\s*\/?>|<\/li>/, with: "\n")
        text = text.replacing(/(?i)<\/p>|<\/div>/, with: "\n\n")
        text = text.replacing(/<[^>\n]{1,500}>/, with: "")
        for (entity, character) in [("&nbsp;", " "), ("&quot;", "\""), ("&#39;", "'"), ("&laquo;", "«"), ("&raquo;", "»")] {
            text = text.replacingOccurrences(of: entity, with: character)
        }
        text = text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
        text = text.replacing(/!?\[([^\]\n]*)\]\(([^)\s]*)\)/) { String($0.output.1) }
        text = text.replacing(/\*\*|__|~~|`+/, with: "")
        text = text.replacing(/(?m)^[ \t]*(#{1,6}|>|[-*•+])[ \t]+/, with: "")
        text = text.replacing(/(^|[^\p{L}\p{N}])[*_]([^*_\n]+)[*_](?![\p{L}\p{N}])/) { String($0.output.1 + $0.output.2) }
        // A stress mark (`д+ома`) is TTS markup; a plus before a digit (`+7`) is not.
        text = text.replacing(/(\p{L})\+([аеёиоуыэюяАЕЁИОУЫЭЮЯ])/) { String($0.output.1 + $0.output.2) }
        text = text.replacing(/\n[ \t]*(\n[ \t]*)+/, with: "\n\n")
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One paragraph as Alice should say it.
    static func spoken(_ paragraph: String, language: BotLanguage) -> String {
        var text = paragraph.replacing(/(?i)(https?:\/\/|www\.)[^\s]+/, with: "")
        text = String(String.UnicodeScalarView(text.unicodeScalars.filter { !isEmoji($0) }))
        // Phone numbers first, kept aside as groups of digits so that no rule below reads them as amounts.
        var phones: [String] = []
        text = text.replacing(/(^|[^\d+])((\+\d{1,3}|8)[ \-]?\(?\d{3}\)?[ \-]?\d{3}[ \-]?\d{2}[ \-]?\d{2})(?!\d)/) { match in
            let digits = String(match.output.2).filter { $0.isNumber || $0 == "+" }
            let country = String(match.output.3)
            let rest = Array(digits.dropFirst(country.count))
            let grouped = [String(rest[0..<3]), String(rest[3..<6]), String(rest[6..<8]), String(rest[8...])]
            phones.append(([country] + grouped).joined(separator: " "))
            return match.output.1 + "\u{E000}\(phones.count - 1)\u{E001}"
        }
        // 1 500 → 1500: Alice reads a space inside a number as two numbers.
        text = text.replacing(/(^|[^\d,.])(\d{1,3}(?:[ \u{00A0}\u{202F}]\d{3})+)(?![\d])/) { match in
            match.output.1 + String(match.output.2).filter(\.isNumber)
        }
        text = language == .ru ? russian(text) : english(text)
        for (index, phone) in phones.enumerated() { text = text.replacingOccurrences(of: "\u{E000}\(index)\u{E001}", with: phone) }
        return collapse(text)
    }

    /// Alice's Russian: amounts, units and abbreviations in words, days and hours as phrases.
    static func russian(_ input: String) -> String {
        // An abbreviation's dot that also ends a sentence: kept as a full stop once the abbreviation is a word.
        var text = input.replacing(/\b(г|гг|ч|мин|сек|шт|руб|р|тыс|т\.\s?е|т\.\s?д|т\.\s?п)\.(\s+\p{Lu})/) {
            "\($0.output.1)..\($0.output.2)"
        }
        let days = RussianDays.self
        text = text.replacing(/(?i)\b(пн|вт|ср|чт|пт|сб|вс)\.?\s*[-–—]\s*(пн|вт|ср|чт|пт|сб|вс)\.?(?!\p{L})/) { match in
            "с " + days.genitive(match.output.1) + " по " + days.accusative(match.output.2)
        }
        text = text.replacing(/(\d{1,2}[:.]\d{2})\s*[-–—]\s*(\d{1,2}[:.]\d{2})/) { "с \($0.output.1) до \($0.output.2)" }
        text = text.replacing(/(?i)\b(пн|вт|ср|чт|пт|сб|вс)\.?(?=\s*[:,]?\s*(?:\d|с\s|до\s|выходн))/) { match in
            days.nominative(match.output.1)
        }
        text = text.replacing(/(\d+(?:[.,]\d+)?)\s?(?:₽|(?i:руб)\.?(?!\p{L})|р\.(?!\p{L}))/) { match in
            "\(match.output.1) " + RussianPlural.form(String(match.output.1), "рубль", "рубля", "рублей")
        }
        text = text.replacing(/\$\s?(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s?\$/) { match in
            let number = String(match.output.1 ?? match.output.2 ?? "")
            return "\(number) " + RussianPlural.form(number, "доллар", "доллара", "долларов")
        }
        text = text.replacing(/€\s?(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s?€/) { "\($0.output.1 ?? $0.output.2 ?? "") евро" }
        text = text.replacing(/(\d+(?:[.,]\d+)?)\s?%/) { match in
            "\(match.output.1) " + RussianPlural.form(String(match.output.1), "процент", "процента", "процентов")
        }
        let units: [(Regex<(Substring, Substring)>, (String, String, String))] = [
            (/(\d+(?:[.,]\d+)?)\s?шт\.?(?!\p{L})/, ("штука", "штуки", "штук")),
            (/(\d+(?:[.,]\d+)?)\s?ч\.?(?!\p{L})/, ("час", "часа", "часов")),
            (/(\d+(?:[.,]\d+)?)\s?мин\.?(?!\p{L})/, ("минута", "минуты", "минут")),
            (/(\d+(?:[.,]\d+)?)\s?сек\.?(?!\p{L})/, ("секунда", "секунды", "секунд")),
            (/(\d+(?:[.,]\d+)?)\s?тыс\.?(?!\p{L})/, ("тысяча", "тысячи", "тысяч")),
        ]
        for (pattern, forms) in units {
            text = text.replacing(pattern) { "\($0.output.1) " + RussianPlural.form(String($0.output.1), forms.0, forms.1, forms.2) }
        }
        text = text.replacing(/(\d{4})\s?гг\.(?!\p{L})/) { "\($0.output.1) годов" }
        text = text.replacing(/\b([вВ]) (\d{4})\s?г\.(?!\p{L})/) { "\($0.output.1) \($0.output.2) году" }
        text = text.replacing(/(\d{4})\s?г\.(?!\p{L})/) { "\($0.output.1) года" }
        for (pattern, words) in [
            (/(?i)\bт\.\s?е\./, "то есть"), (/(?i)\bт\.\s?д\./, "так далее"),
            (/(?i)\bт\.\s?п\./, "тому подобное"), (/\bшт\./, "штук"), (/№\s?/, "номер "),
        ] {
            text = text.replacing(pattern, with: words)
        }
        return text
    }

    /// Alice's English: the same, for shops that answer in English.
    static func english(_ input: String) -> String {
        var text = input
        let names = [
            "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
        ]
        text = text.replacing(/(?i)\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\s*[-–—]\s*(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?(?![a-z])/) {
            match in
            (names[match.output.1.lowercased()] ?? "") + " to " + (names[match.output.2.lowercased()] ?? "")
        }
        text = text.replacing(/(\d{1,2}[:.]\d{2})\s*[-–—]\s*(\d{1,2}[:.]\d{2})/) { "from \($0.output.1) to \($0.output.2)" }
        let currencies: [(Regex<(Substring, Substring?, Substring?)>, String, String)] = [
            (/₽\s?(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s?(?:₽|(?i:rub)\.?(?![a-z]))/, "ruble", "rubles"),
            (/\$\s?(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s?\$/, "dollar", "dollars"),
            (/€\s?(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s?€/, "euro", "euros"),
        ]
        for (pattern, one, many) in currencies {
            text = text.replacing(pattern) { match in
                let number = String(match.output.1 ?? match.output.2 ?? "")
                return "\(number) " + (number == "1" ? one : many)
            }
        }
        text = text.replacing(/(\d+(?:[.,]\d+)?)\s?%/) { "\($0.output.1) percent" }
        text = text.replacing(/(\d+)\s?(?:pcs|pc)\.?(?![a-z])/) { "\($0.output.1) " + ($0.output.1 == "1" ? "piece" : "pieces") }
        text = text.replacing(/(\d+)\s?(?:hrs|hr|h)\.?(?![a-z])/) { "\($0.output.1) " + ($0.output.1 == "1" ? "hour" : "hours") }
        text = text.replacing(/(\d+)\s?(?:mins|min)\.?(?![a-z])/) { "\($0.output.1) " + ($0.output.1 == "1" ? "minute" : "minutes") }
        for (pattern, words) in [
            (/(?i)\bi\.e\./, "that is"), (/(?i)\be\.g\./, "for example"), (/(?i)\betc\./, "and so on"), (/№\s?/, "number "),
        ] {
            text = text.replacing(pattern, with: words)
        }
        return text
    }

    /// Pictographs, their modifiers and joiners (digits and `#`, which may start a keycap, are not).
    static func isEmoji(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xFE0F, 0x200D, 0x20E3, 0x1F000...0x1FAFF, 0x2600...0x27BF, 0x2B00...0x2BFF, 0x1F1E6...0x1F1FF: return true
        default: return scalar.properties.isEmojiPresentation
        }
    }

    /// Single spaces, no space before punctuation, no empty punctuation left by a dropped link.
    static func collapse(_ text: String) -> String {
        var text = text.replacing(/[ \t\u{00A0}]+/, with: " ")
        text = text.replacing(/\ +([.,!?:;…)])/) { String($0.output.1) }
        text = text.replacing(/:\s*([.!?])/) { String($0.output.1) }
        text = text.replacing(/\(\s*\)/, with: "")
        return text.trimmingCharacters(in: .whitespaces)
    }
}

/// Russian number agreement: 1 рубль, 2 рубля, 5 рублей, 21 рубль, 11 рублей, 1,5 рубля.
enum RussianPlural {
    static func form(_ number: String, _ one: String, _ few: String, _ many: String) -> String {
        if number.contains(",") || number.contains(".") { return few }
        guard let last = Int(number.suffix(2)) else { return many }
        if (11...14).contains(last) { return many }
        switch last % 10 {
        case 1: return one
        case 2...4: return few
        default: return many
        }
    }
}

/// Russian weekday abbreviations in the cases a schedule needs.
enum RussianDays {
    static let keys = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]

    static func nominative(_ day: Substring) -> String {
        pick(day, ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"])
    }
    /// «с понедельника».
    static func genitive(_ day: Substring) -> String {
        pick(day, ["понедельника", "вторника", "среды", "четверга", "пятницы", "субботы", "воскресенья"])
    }
    /// «по пятницу».
    static func accusative(_ day: Substring) -> String {
        pick(day, ["понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"])
    }

    private static func pick(_ day: Substring, _ words: [String]) -> String {
        guard let word = keys.firstIndex(of: day.lowercased()).map({ words[$0] }) else { return String(day) }
        // «Сб: …» at the start of a line stays capitalised.
        return day.first?.isUppercase == true ? word.prefix(1).uppercased() + word.dropFirst() : word
    }
}

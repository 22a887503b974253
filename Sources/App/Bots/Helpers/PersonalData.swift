import Foundation

/// Masks what identifies a person in texts that leave for a model provider: e-mail addresses, phone numbers (ten or
/// more digits, however grouped: `+7 (999) 123-45-67`, `89991234567`) and the names the shop knows for the people in
/// the conversation.
enum PersonalData {
    static let emailMask = "[e-mail]"
    static let phoneMask = "[phone]"
    static let nameMask = "[name]"

    static func mask(_ text: String, names: [String] = []) -> String {
        var masked = text.replacing(/[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}/, with: emailMask)
        masked = masked.replacing(/\+?\d[\d\s\-().]{8,}\d/) { (match: Regex<Substring>.Match) -> String in
            match.output.filter(\.isNumber).count >= 10 ? phoneMask : String(match.output)
        }
        // Whole names first, then each of their words of three letters or more, as whole words in any case.
        let words = names.flatMap { name in [name] + name.split(whereSeparator: { !$0.isLetter }).map(String.init) }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.count >= 3 }
        for word in Set(words).sorted(by: { $0.count > $1.count }) {
            masked = replaceWord(word, in: masked)
        }
        return masked
    }

    /// `text` with every case-insensitive whole-word occurrence of `word` replaced by the name mask.
    private static func replaceWord(_ word: String, in text: String) -> String {
        var result = ""
        var rest = text[...]
        while let range = rest.range(of: word, options: [.caseInsensitive]) {
            let before = range.lowerBound == rest.startIndex ? nil : rest[rest.index(before: range.lowerBound)]
            let after = range.upperBound == rest.endIndex ? nil : rest[range.upperBound]
            let whole = !(before?.isLetter ?? false) && !(after?.isLetter ?? false)
            result += rest[..<range.lowerBound] + (whole ? nameMask : String(rest[range]))
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

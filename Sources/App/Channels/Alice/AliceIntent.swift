import Foundation

/// What a turn asks of the skill before the bot hears it: Alice's health check, the opening, the help and exit phrases
/// that moderation checks, "what's there?" after a "one moment", or a question for the bot.
public enum AliceIntent: Sendable, Equatable {
    /// Alice's monitoring (`original_utterance == "ping"`): answered at once, nothing stored.
    case ping
    /// The skill was opened with nothing said.
    case greeting
    case help(BotLanguage)
    case goodbye(BotLanguage)
    /// "Что там?": the shopper asks for an answer that was late.
    case followUp
    /// Words for the bot.
    case ask(String)

    static let help: [String: BotLanguage] = [
        "помощь": .ru, "помоги": .ru, "справка": .ru, "что ты умеешь": .ru, "что ты можешь": .ru, "что умеешь": .ru,
        "help": .en, "what can you do": .en,
    ]
    static let goodbye: [String: BotLanguage] = [
        "хватит": .ru, "стоп": .ru, "выход": .ru, "выйти": .ru, "закончить": .ru, "stop": .en, "exit": .en, "quit": .en,
    ]
    static let followUps: Set<String> = [
        "что там", "ну что там", "ну что", "что там с ответом", "ну как", "ответ готов", "готово", "whats up", "what is up", "whats there",
        "any news", "is it ready",
    ]

    public static func classify(_ request: AliceRequest) -> AliceIntent {
        if request.request.originalUtterance == "ping" { return .ping }
        let words = request.words.trimmingCharacters(in: .whitespacesAndNewlines)
        let phrase = normalized(words)
        if phrase.isEmpty { return .greeting }
        if let language = help[phrase] { return .help(language) }
        if let language = goodbye[phrase] { return .goodbye(language) }
        if followUps.contains(phrase) { return .followUp }
        return .ask(words)
    }

    /// Lower case, `ё` as `е`, no punctuation, single spaces, without a leading "алиса".
    static func normalized(_ text: String) -> String {
        let text = text.lowercased().replacingOccurrences(of: "ё", with: "е").replacingOccurrences(of: "'", with: "")
            .replacingOccurrences(of: "’", with: "")
        let letters = text.unicodeScalars.map { scalar -> Character in
            CharacterSet.punctuationCharacters.contains(scalar) || CharacterSet.symbols.contains(scalar) ? " " : Character(scalar)
        }
        var words = String(letters).split(whereSeparator: \.isWhitespace)
        if words.first == "алиса" { words.removeFirst() }
        return words.joined(separator: " ")
    }
}

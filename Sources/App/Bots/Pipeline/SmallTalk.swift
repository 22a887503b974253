import Foundation

/// Greetings, thanks, goodbyes and requests for a person, in Russian and English: what a shopper says that is not a
/// question about the shop. Pure: matched on the normalised words.
public enum SmallTalk: String, Sendable, Codable, CaseIterable {
    case greeting, thanks, goodbye, howAreYou = "how_are_you", whoAreYou = "who_are_you"

    /// The small talk a message is made of, when it is nothing else: "привет!" and "спасибо большое" are, "привет,
    /// сколько стоит доставка?" is a question (the greeting is not answered, the question is).
    public static func classify(_ message: NormalizedText) -> SmallTalk? {
        let words = message.words
        guard !words.isEmpty, words.count <= 7 else { return nil }
        var found: SmallTalk?
        var index = 0
        while index < words.count {
            if let (kind, length) = match(words, at: index) {
                // The last kind wins: "привет, спасибо" thanks, "ok thanks bye" says goodbye.
                found = kind
                index += length
            } else if fillers.contains(words[index]) {
                index += 1
            } else {
                return nil
            }
        }
        return found
    }

    private static func match(_ words: [String], at index: Int) -> (SmallTalk, Int)? {
        for length in stride(from: min(4, words.count - index), through: 1, by: -1) {
            let phrase = words[index..<(index + length)].joined(separator: " ")
            if let kind = phrases[phrase] { return (kind, length) }
        }
        return nil
    }

    /// Words that may surround small talk without making it a question.
    static let fillers: Set<String> = [
        "и", "а", "ну", "вам", "тебе", "очень", "большое", "огромное", "всем", "ребята", "еще", "раз", "бот", "ок", "окей", "ладно",
        "хорошо", "понятно", "ясно", "супер", "отлично", "да", "так", "вот", "уважаемый", "уважаемые", "господа",
        "so", "ok", "okay", "very", "much", "a", "lot", "again", "you", "guys", "there", "bot", "all", "great", "cool", "fine",
        "got", "it", "well", "oh", "and", "then", "yes", "sure", "nice", "alright",
    ]

    static let phrases: [String: SmallTalk] = {
        var table: [String: SmallTalk] = [:]
        let lists: [(SmallTalk, [String])] = [
            (
                .greeting,
                [
                    "привет", "приветик", "приветствую", "здравствуйте", "здравствуй", "здрасте", "здрасьте", "добрый день", "добрый вечер",
                    "доброе утро", "доброй ночи", "доброго дня", "доброго времени суток", "хай", "салют", "алло", "ау", "hello", "hi",
                    "hey",
                    "hiya", "howdy", "start", "старт", "начать", "good morning", "good afternoon", "good evening", "greetings", "hi there",
                    "hello there",
                ]
            ),
            (
                .thanks,
                [
                    "спасибо", "спс", "благодарю", "благодарствую", "мерси", "пасиб", "пасибо", "сенкс", "спасибо за помощь",
                    "спасибо за ответ", "thanks", "thank you", "thx", "ty", "cheers", "many thanks", "thanks a lot", "thank you so much",
                    "much appreciated", "appreciate it", "thanks for the help", "thank you for your help",
                ]
            ),
            (
                .goodbye,
                [
                    "пока", "до свидания", "досвидания", "всего доброго", "всего хорошего", "до встречи", "до связи", "хорошего дня",
                    "удачи", "bye", "goodbye", "bye bye", "see you", "see ya", "have a nice day", "have a good day", "take care",
                    "good night", "later",
                ]
            ),
            (
                .howAreYou,
                [
                    "как дела", "как ты", "как вы", "как поживаешь", "как поживаете", "как жизнь", "how are you", "how are you doing",
                    "how is it going", "how s it going", "whats up", "what s up", "sup",
                ]
            ),
            (
                .whoAreYou,
                [
                    "ты кто", "кто ты", "вы кто", "кто вы", "ты бот", "вы бот", "ты робот", "вы робот", "who are you", "are you a bot",
                    "are you a robot", "are you human", "what are you",
                ]
            ),
        ]
        for (kind, list) in lists {
            for phrase in list { table[NormalizedText(phrase).text] = kind }
        }
        return table
    }()
}

/// Requests for a person ("позовите оператора", "talk to a human"), recognised wherever they stand in a message.
public enum HandoffRequest {
    /// Whether the message asks for a person.
    public static func isRequest(_ message: NormalizedText) -> Bool {
        let words = message.words
        guard !words.isEmpty, words.count <= 25 else { return false }
        let text = " " + message.text + " "
        if phrases.contains(where: { text.contains(" " + $0 + " ") }) { return true }
        // A word naming a person, alone or with a verb that asks for one: "оператор", "менеджера пожалуйста",
        // "can I speak to an agent".
        let people = words.filter { word in personStems.contains { word.hasPrefix($0) } || personWords.contains(word) }
        guard !people.isEmpty else { return false }
        if words.count <= 3 { return true }
        return words.contains { word in askingStems.contains { word.hasPrefix($0) } }
    }

    /// Whole phrases that ask for a person.
    static let phrases: [String] = [
        "живой человек", "живого человека", "живым человеком", "с человеком", "позовите человека", "позови человека",
        "нужен человек", "дайте человека", "реальный человек", "реального человека", "не бот", "не с ботом", "без бота",
        "кем-то живым", "кем-нибудь живым", "кто у вас старший", "кто здесь старший", "кто тут старший",
        "служба поддержки", "службу поддержки", "службой поддержки", "в поддержку", "с поддержкой", "техподдержка",
        "real person", "live person", "a human", "to human", "human being", "someone real", "real human", "speak to someone",
        "talk to someone", "customer service", "customer support", "support team", "live agent", "live chat", "not a bot",
    ]

    /// Words for a person at the shop, by their stems (every case form).
    static let personStems: [String] = [
        "оператор", "менеджер", "консультант", "специалист", "сотрудник", "администратор", "представител", "руководител",
        "руководств", "начальник", "начальств", "operator",
        "human", "agent", "representative", "manager", "supervisor", "staff",
    ]
    static let personWords: Set<String> = ["person", "people", "someone", "somebody", "rep", "reps", "админ", "админа"]

    /// Verbs and words that ask for someone.
    static let askingStems: [String] = [
        "позов", "позват", "зови", "соедин", "переключ", "свяж", "связат", "свяжит", "хочу", "нужен", "нужна", "нужно", "дайт",
        "можно", "поговор", "пообщ", "переведит", "переведи", "позвоните", "пригласит", "call", "connect", "speak", "talk",
        "want", "need", "get", "transfer", "put", "let", "can", "could", "please", "give", "chat",
    ]
}

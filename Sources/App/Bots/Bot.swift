import Foundation

/// A bot's settings. Empty texts stand for the default in the conversation's language (`BotTexts`), so a shop's
/// first bot answers in Russian and English before anyone edits it.
public struct Bot: Sendable, Equatable {
    public var id: Int
    public var slug: String
    public var name: String
    /// The uploaded picture, by its file name among the brand assets (`<sha256>.png|svg`); nil shows the initial.
    public var avatar: String?
    public var greeting: String
    public var fallback: String
    public var language: Language
    /// The score an answer needs; `nil` is the installation's tuned default (`Retriever.defaultThreshold`).
    public var threshold: Double?
    public var handoffOnRequest: Bool
    /// Hand off after this many fallbacks in a row (0: never).
    public var handoffAfterFallbacks: Int
    /// Words that hand the conversation to people at once (normalised when saved).
    public var handoffKeywords: [String]
    public var hours: BusinessHours?
    public var awayMessage: String
    /// The web chat widget's settings.
    public var widget: WidgetSettings
    /// The language model that answers in the bot's own words, grounded on the shop's knowledge.
    public var llm: LLMSettings

    /// Where the picture is served (any host's `/brand-assets/`), or nil.
    public var avatarURL: String? { avatar.map { SiteURL.brandAsset($0).path } }

    public enum Language: String, Sendable, Codable, CaseIterable {
        case ru, en, auto
    }

    public init(
        id: Int = 0, slug: String = "assistant", name: String = "", avatar: String? = nil, greeting: String = "",
        fallback: String = "", language: Language = .auto, threshold: Double? = nil, handoffOnRequest: Bool = true,
        handoffAfterFallbacks: Int = 2, handoffKeywords: [String] = [], hours: BusinessHours? = nil, awayMessage: String = "",
        widget: WidgetSettings = WidgetSettings(), llm: LLMSettings = LLMSettings()
    ) {
        self.id = id
        self.slug = slug
        self.name = name
        self.avatar = avatar
        self.greeting = greeting
        self.fallback = fallback
        self.language = language
        self.threshold = threshold
        self.handoffOnRequest = handoffOnRequest
        self.handoffAfterFallbacks = handoffAfterFallbacks
        self.handoffKeywords = handoffKeywords
        self.hours = hours
        self.awayMessage = awayMessage
        self.widget = widget
        self.llm = llm
    }

    /// The language of a conversation: the bot's when it speaks one, else the one the shopper writes in (kept once
    /// known), else the shop's default.
    public func language(for text: String, current: BotLanguage?, shopDefault: BotLanguage) -> BotLanguage {
        switch language {
        case .ru: .ru
        case .en: .en
        case .auto: BotLanguage.detect(text) ?? current ?? shopDefault
        }
    }

    /// The bot's name as shoppers see it.
    public func displayName(_ language: BotLanguage) -> String {
        name.isEmpty ? BotTexts.defaultName(language) : name
    }
}

/// Opening hours per weekday in a time zone: when people answer. Outside them a hand-off tells the shopper when.
public struct BusinessHours: Sendable, Equatable, Codable {
    /// The zone's identifier (`Europe/Moscow`).
    public var timezone: String
    /// Monday is 1 … Sunday 7; each day's intervals in minutes from midnight, `[start, end)`.
    public var days: [Int: [ClosedRange<Int>]]

    public init(timezone: String, days: [Int: [ClosedRange<Int>]]) {
        self.timezone = timezone
        self.days = days
    }

    /// Whether people answer at `date`.
    public func isOpen(at date: Date) -> Bool {
        guard let zone = TimeZone(identifier: timezone) else { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return true }
        let day = weekday == 1 ? 7 : weekday - 1
        let now = hour * 60 + minute
        return (days[day] ?? []).contains { $0.lowerBound <= now && now < $0.upperBound }
    }

    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Parses `{mon-fri: "09:00-21:00", sat: "10:00-18:00, 19:00-20:00"}`; throws a sentence naming the bad part.
    public static func parse(timezone: String, week: [(String, String)]) throws -> BusinessHours {
        guard TimeZone(identifier: timezone) != nil else {
            throw BotSettingsError("“\(timezone)” is not a time zone; use a name such as Europe/Moscow.")
        }
        var days: [Int: [ClosedRange<Int>]] = [:]
        for (key, value) in week {
            let bounds = key.lowercased().split(separator: "-").map(String.init)
            guard (1...2).contains(bounds.count), let first = dayNames.firstIndex(of: bounds[0]),
                let last = dayNames.firstIndex(of: bounds[bounds.count - 1]), first <= last
            else {
                throw BotSettingsError("“\(key)” is not a day or a range of days; use mon, tue, … sun or mon-fri.")
            }
            var intervals: [ClosedRange<Int>] = []
            for interval in value.split(separator: ",") {
                let ends = interval.trimmingCharacters(in: .whitespaces).split(separator: "-").map(String.init)
                guard ends.count == 2, let start = minutes(ends[0]), let end = minutes(ends[1]), start < end else {
                    if interval.trimmingCharacters(in: .whitespaces).lowercased() == "closed" { continue }
                    throw BotSettingsError("“\(value)” is not a time interval; use 09:00-21:00 (or closed).")
                }
                intervals.append(start...end)
            }
            for day in first...last { days[day + 1, default: []] += intervals }
        }
        return BusinessHours(timezone: timezone, days: days)
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...24).contains(hour), (0..<60).contains(minute),
            hour * 60 + minute <= 1440
        else { return nil }
        return hour * 60 + minute
    }

    /// `{"1": [[540, 1260]], ...}` as `bots.hours` stores it.
    var json: String {
        let object = Dictionary(uniqueKeysWithValues: days.map { (String($0.key), $0.value.map { [$0.lowerBound, $0.upperBound] }) })
        let data = (try? JSONSerialization.data(withJSONObject: ["timezone": timezone, "days": object], options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let timezone = object["timezone"] as? String, let days = object["days"] as? [String: [[Int]]]
        else { return nil }
        self.timezone = timezone
        self.days = [:]
        for (key, intervals) in days {
            guard let day = Int(key) else { continue }
            self.days[day] = intervals.compactMap { $0.count == 2 && $0[0] <= $0[1] ? $0[0]...$0[1] : nil }
        }
    }

    /// "mon-fri 09:00-21:00" lines for forms and exports.
    public var week: [(String, String)] {
        (1...7).compactMap { day in
            guard let intervals = days[day], !intervals.isEmpty else { return nil }
            let text = intervals.map { Self.clock($0.lowerBound) + "-" + Self.clock($0.upperBound) }.joined(separator: ", ")
            return (Self.dayNames[day - 1], text)
        }
    }

    static func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }
}

/// A bot setting that cannot be taken, as a sentence.
public struct BotSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What the bot says when the shop has not said otherwise, in each language.
public enum BotTexts {
    public static func defaultName(_ language: BotLanguage) -> String {
        language == .ru ? "Ассистент" : "Assistant"
    }

    public static func greeting(_ language: BotLanguage) -> String {
        language == .ru
            ? "Здравствуйте! Я {{bot.name}} магазина {{shop.name}}. Спросите меня о доставке, оплате, возврате или товарах."
            : "Hello! I am {{bot.name}} of {{shop.name}}. Ask me about delivery, payment, returns or products."
    }

    public static func fallback(_ language: BotLanguage) -> String {
        language == .ru
            ? "Извините, я не нашёл ответа на этот вопрос. Попробуйте спросить иначе или напишите «оператор», чтобы позвать человека."
            : "Sorry, I could not find an answer to that. Try asking another way, or type “operator” to reach a person."
    }

    public static func handoff(_ language: BotLanguage) -> String {
        language == .ru
            ? "Передаю разговор оператору, он скоро ответит здесь же." : "I am passing you to a person; they will answer here shortly."
    }

    public static func away(_ language: BotLanguage) -> String {
        language == .ru
            ? "Сейчас операторы не на связи. Оставьте вопрос здесь, и мы ответим, как только начнём работу."
            : "Our team is away right now. Leave your question here and we will answer as soon as we are back."
    }

    public static func quota(_ language: BotLanguage) -> String {
        language == .ru ? "Сейчас вам ответит оператор." : "A person will answer you shortly."
    }

    /// A voice note the bot could not hear (no speech to text, or nothing recognised).
    public static func voiceUnheard(_ language: BotLanguage) -> String {
        language == .ru
            ? "Я пока не умею слушать голосовые сообщения. Напишите, пожалуйста, вопрос текстом — а сотрудники магазина увидят ваше сообщение."
            : "I can't listen to voice messages yet. Please type your question — the shop's team will see your message too."
    }

    public static func clarify(_ language: BotLanguage) -> String {
        language == .ru ? "Уточните, пожалуйста, что вы имели в виду:" : "Did you mean:"
    }

    public static func moreInArticle(_ language: BotLanguage) -> String {
        language == .ru ? "Подробнее" : "Read more"
    }

    public static func smallTalk(_ kind: SmallTalk, _ language: BotLanguage) -> String {
        switch (kind, language) {
        case (.greeting, .ru): "Здравствуйте! Чем могу помочь?"
        case (.greeting, .en): "Hello! How can I help?"
        case (.thanks, .ru): "Пожалуйста! Если появятся вопросы, пишите."
        case (.thanks, .en): "You are welcome! Write if you have any other questions."
        case (.goodbye, .ru): "Всего доброго! Будем рады помочь снова."
        case (.goodbye, .en): "Goodbye! We are happy to help any time."
        case (.howAreYou, .ru): "Всё хорошо, спасибо! Чем могу помочь?"
        case (.howAreYou, .en): "All good, thank you! How can I help?"
        case (.whoAreYou, .ru): "Я {{bot.name}}, бот магазина {{shop.name}}. Отвечаю на вопросы, а если нужно, позову человека."
        case (.whoAreYou, .en): "I am {{bot.name}}, the bot of {{shop.name}}. I answer questions and can call a person when needed."
        }
    }
}

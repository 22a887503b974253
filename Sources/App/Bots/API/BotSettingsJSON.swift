import Foundation
import Hummingbird

/// A bot's settings as the API shows them; every key is present (`null` when unset). `keySet`: the bot has a model
/// key of its own (the key itself is never shown).
struct BotSettingsJSON: Encodable {
    let bot: Bot
    let keySet: Bool

    init(_ bot: Bot, keySet: Bool) {
        self.bot = bot
        self.keySet = keySet
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(bot.slug, forKey: JSONKey("slug"))
        try container.encode(bot.name, forKey: JSONKey("name"))
        try container.encode(bot.avatarURL, forKey: JSONKey("avatar_url"))
        try container.encode(bot.greeting, forKey: JSONKey("greeting"))
        try container.encode(bot.fallback, forKey: JSONKey("fallback"))
        try container.encode(bot.language.rawValue, forKey: JSONKey("language"))
        try container.encode(bot.threshold, forKey: JSONKey("threshold"))
        var handoff = container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("handoff"))
        try handoff.encode(bot.handoffOnRequest, forKey: JSONKey("on_request"))
        try handoff.encode(bot.handoffAfterFallbacks, forKey: JSONKey("after_fallbacks"))
        try handoff.encode(bot.handoffKeywords, forKey: JSONKey("keywords"))
        if let hours = bot.hours {
            var object = container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("hours"))
            try object.encode(hours.timezone, forKey: JSONKey("timezone"))
            try object.encode(Dictionary(uniqueKeysWithValues: hours.week.map { ($0.0, $0.1) }), forKey: JSONKey("week"))
        } else {
            try container.encodeNil(forKey: JSONKey("hours"))
        }
        try container.encode(bot.awayMessage, forKey: JSONKey("away_message"))
        try container.encode(BotLLMJSON(settings: bot.llm, keySet: keySet), forKey: JSONKey("llm"))
        // The bot's own provider's embeddings (a bot that follows its agency embeds as the agency's settings say).
        try container.encode(bot.llm.provider?.embeddings.rawValue ?? "local", forKey: JSONKey("embeddings"))
        try container.encode(bot.llm.provider?.embeddingModel, forKey: JSONKey("embedding_model"))
    }
}

/// `PUT /api/v1/bot`'s body: any of the settings; fields it may not have are kept to be refused by name.
struct BotSettingsChange: Decodable, Sendable {
    /// Where `null` means something (the default threshold, always open, the provider's embedding model, the model's
    /// nulls); anywhere else it is refused.
    static let nullable = Set<String>(["threshold", "hours", "embedding_model"]).union(BotLLMChange.nullable.map { "llm." + $0 })
    var name, greeting, fallback, awayMessage, language: String?
    var threshold: Double??
    var onRequest: Bool?
    var afterFallbacks: Int?
    var keywords: [String]?
    /// `.some(nil)` clears the hours.
    var hours: Hours??
    /// The model's settings, applied apart (`BotModelAPI`: its key is sealed in the same transaction).
    var llm: BotLLMChange?
    /// `local` or `provider`, and the provider's embedding model (`null`: its default): `applyEmbeddings`.
    var embeddings: String?
    var embeddingModel: String??
    var unknown: [String] = []

    struct Hours: Sendable {
        var timezone: String
        var week: [String: String]
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        unknown = container.unknown([
            "name", "greeting", "fallback", "language", "threshold", "handoff", "hours", "away_message", "llm", "embeddings",
            "embedding_model",
        ])
        embeddings = try container.optional(String.self, "embeddings")
        embeddingModel = try container.nullable(String.self, "embedding_model")
        name = try container.optional(String.self, "name")
        greeting = try container.optional(String.self, "greeting")
        fallback = try container.optional(String.self, "fallback")
        awayMessage = try container.optional(String.self, "away_message")
        language = try container.optional(String.self, "language")
        threshold = try container.nullable(Double.self, "threshold")
        if container.contains(JSONKey("handoff")) {
            let handoff = try container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("handoff"))
            unknown += handoff.unknown(["on_request", "after_fallbacks", "keywords"], prefix: "handoff.")
            onRequest = try handoff.optional(Bool.self, "on_request")
            afterFallbacks = try handoff.optional(Int.self, "after_fallbacks")
            keywords = try handoff.optional([String].self, "keywords")
        }
        if container.contains(JSONKey("llm")) {
            let change = try container.decode(BotLLMChange.self, forKey: JSONKey("llm"))
            unknown += change.unknown
            llm = change
        }
        if container.contains(JSONKey("hours")) {
            if try container.decodeNil(forKey: JSONKey("hours")) {
                hours = .some(nil)
            } else {
                let object = try container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("hours"))
                unknown += object.unknown(["timezone", "week"], prefix: "hours.")
                hours = .some(
                    Hours(
                        timezone: try object.optional(String.self, "timezone") ?? "Europe/Moscow",
                        week: try object.decode([String: String].self, forKey: JSONKey("week"))))
            }
        }
    }

    /// The change applied to `bot`, or a 422 naming every field refused.
    func apply(to bot: inout Bot) throws {
        var problems: [FieldProblem] = []
        func text(_ value: String?, _ field: String, limit: Int, template: Bool) -> String? {
            // The length as sent (the document's maxLength), before trimming.
            guard let raw = value else { return nil }
            let value = raw.apiText
            if raw.databaseLength > limit {
                problems.append(FieldProblem(field: field, message: "At most \(limit) characters."))
            } else if template, !value.isEmpty {
                do { try ResponseTemplate.check(value) } catch {
                    problems.append(FieldProblem(field: field, message: BotAPIAccess.sentence(error)))
                }
            }
            return value
        }
        if let value = text(name, "name", limit: 80, template: false) { bot.name = value }
        if let value = text(greeting, "greeting", limit: 2000, template: true) { bot.greeting = value }
        if let value = text(fallback, "fallback", limit: 2000, template: true) { bot.fallback = value }
        if let value = text(awayMessage, "away_message", limit: 2000, template: true) { bot.awayMessage = value }
        if let language {
            if let value = Bot.Language(rawValue: language) {
                bot.language = value
            } else {
                problems.append(FieldProblem(field: "language", message: "Must be ru, en or auto."))
            }
        }
        if let threshold {
            if let value = threshold, !(0...1).contains(value) {
                problems.append(FieldProblem(field: "threshold", message: "Must be a number from 0 to 1, or null for the default."))
            } else {
                bot.threshold = threshold
            }
        }
        if let onRequest { bot.handoffOnRequest = onRequest }
        if let afterFallbacks {
            if (0...20).contains(afterFallbacks) {
                bot.handoffAfterFallbacks = afterFallbacks
            } else {
                problems.append(FieldProblem(field: "handoff.after_fallbacks", message: "Must be a whole number from 0 (never) to 20."))
            }
        }
        if let keywords {
            let words = keywords.map(\.apiText).filter { !$0.isEmpty }
            if keywords.count > 100 || keywords.contains(where: { $0.databaseLength > 100 }) {
                problems.append(FieldProblem(field: "handoff.keywords", message: "Up to 100 keywords of at most 100 characters."))
            } else {
                bot.handoffKeywords = words
            }
        }
        if let hours {
            if let hours {
                if TimeZone(identifier: hours.timezone) == nil {
                    problems.append(
                        FieldProblem(
                            field: "hours.timezone", message: "“\(hours.timezone)” is not a time zone; use a name such as Europe/Moscow."))
                } else if hours.week.isEmpty {
                    problems.append(
                        FieldProblem(field: "hours.week", message: "Required: days and hours, e.g. {\"mon-fri\": \"09:00-21:00\"}."))
                } else {
                    do {
                        bot.hours = try BusinessHours.parse(
                            timezone: hours.timezone, week: hours.week.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
                    } catch {
                        problems.append(FieldProblem(field: "hours.week", message: BotAPIAccess.sentence(error)))
                    }
                }
            } else {
                bot.hours = nil
            }
        }
        applyEmbeddings(to: &bot, problems: &problems)
        if !problems.isEmpty { throw APIError.validation(problems) }
    }
}

import Foundation
import PostgresNIO

/// Bots in a tenant's schema: settings read and written inside the tenant's transaction.
public struct BotStore: Sendable {
    public init() {}

    static let columns = """
        id::int, slug, name, avatar, greeting, fallback, language, threshold::float8, handoff_on_request,
        handoff_after_fallbacks, handoff_keywords, hours::text, away_message, allowed_origins, launcher_position, prechat::text,
        llm::text
        """

    /// A bot by id, or the shop's first one when `id` is nil.
    static func find(id: Int?, on tenant: TenantConnection) async throws -> Bot? {
        if let id {
            return try await tenant.first(BotRow.self, "SELECT \(unescaped: columns) FROM bots WHERE id = \(id)")?.bot
        }
        return try await tenant.first(BotRow.self, "SELECT \(unescaped: columns) FROM bots ORDER BY id LIMIT 1")?.bot
    }

    public func find(id: Int?, on tenant: TenantConnection) async throws -> Bot? {
        try await Self.find(id: id, on: tenant)
    }

    public func find(slug: String, on tenant: TenantConnection) async throws -> Bot? {
        try await tenant.first(BotRow.self, "SELECT \(unescaped: Self.columns) FROM bots WHERE slug = \(slug)")?.bot
    }

    public func list(on tenant: TenantConnection) async throws -> [Bot] {
        try await tenant.all(BotRow.self, "SELECT \(unescaped: Self.columns) FROM bots ORDER BY id").map(\.bot)
    }

    /// Writes a bot's settings; `false` when it is gone. Keywords are stored normalised.
    @discardableResult
    public func update(_ bot: Bot, on tenant: TenantConnection) async throws -> Bool {
        try Self.check(bot)
        return try await !tenant.rows(
            """
            UPDATE bots SET name = \(bot.name), avatar = \(bot.avatar), greeting = \(bot.greeting),
                fallback = \(bot.fallback), language = \(bot.language.rawValue), threshold = \(bot.threshold),
                handoff_on_request = \(bot.handoffOnRequest), handoff_after_fallbacks = \(bot.handoffAfterFallbacks),
                handoff_keywords = \(Self.keywords(bot.handoffKeywords)), hours = \(bot.hours?.json)::jsonb,
                timezone = \(bot.hours?.timezone ?? "Europe/Moscow"), away_message = \(bot.awayMessage),
                allowed_origins = \(bot.widget.allowedOrigins), launcher_position = \(bot.widget.position.rawValue),
                prechat = \(bot.widget.prechatJSON)::jsonb, llm = \(bot.llm.json)::jsonb, updated_at = now()
            WHERE id = \(bot.id) RETURNING id
            """
        ).isEmpty
    }

    /// Adds a bot, within the plan's `bots` limit (checked under a lock on the shop's row, so two at once cannot both
    /// take the last one). Returns its id.
    public func create(_ bot: Bot, tenantID: UUID, plans: PlanStore, on tenant: TenantConnection) async throws -> Int {
        try Self.check(bot)
        _ = try await tenant.rows("SELECT 1 FROM platform.tenants WHERE id = \(tenantID) FOR UPDATE")
        if let limit = try await plans.limits(tenantID: tenantID, on: tenant)?.maxBots {
            let count = try await tenant.value(Int.self, "SELECT count(*)::int FROM bots") ?? 0
            if count >= limit { throw BotLimitReached(limit: limit) }
        }
        do {
            guard
                let id = try await tenant.value(
                    Int.self,
                    """
                    INSERT INTO bots (slug, name, greeting, fallback, language, threshold, handoff_on_request,
                        handoff_after_fallbacks, handoff_keywords, hours, timezone, away_message, allowed_origins, launcher_position,
                        prechat, llm)
                    VALUES (\(bot.slug), \(bot.name), \(bot.greeting), \(bot.fallback), \(bot.language.rawValue), \(bot.threshold),
                        \(bot.handoffOnRequest), \(bot.handoffAfterFallbacks), \(Self.keywords(bot.handoffKeywords)),
                        \(bot.hours?.json)::jsonb, \(bot.hours?.timezone ?? "Europe/Moscow"), \(bot.awayMessage),
                        \(bot.widget.allowedOrigins), \(bot.widget.position.rawValue), \(bot.widget.prechatJSON)::jsonb,
                        \(bot.llm.json)::jsonb)
                    RETURNING id::int
                    """)
            else { throw IdentityError.notFound }
            return id
        } catch  where databaseErrorCode(error) == "23505" {
            throw BotSlugTaken(slug: bot.slug)
        }
    }

    static func keywords(_ words: [String]) -> [String] {
        Array(Set(words.map { NormalizedText($0).text }.filter { !$0.isEmpty })).sorted()
    }

    /// What the database's checks would refuse, as sentences.
    static func check(_ bot: Bot) throws {
        guard Slug.isValid(bot.slug) else { throw BotSettingsError("“\(bot.slug)” is not a valid bot id: use a-z, 0-9 and -.") }
        if bot.name.databaseLength > 80 { throw BotSettingsError("The bot's name is longer than 80 characters.") }
        for (label, text) in [("greeting", bot.greeting), ("fallback", bot.fallback), ("away message", bot.awayMessage)] {
            if text.databaseLength > 2000 { throw BotSettingsError("The \(label) is longer than 2000 characters.") }
            if !text.isEmpty { try ResponseTemplate.check(text) }
        }
        if let threshold = bot.threshold, !(0...1).contains(threshold) {
            throw BotSettingsError("The answer threshold must be between 0 and 1.")
        }
        if !(0...20).contains(bot.handoffAfterFallbacks) {
            throw BotSettingsError("Hand-off after fallbacks must be between 0 (never) and 20.")
        }
        try LLMSettings.check(bot.llm)
        if bot.widget.allowedOrigins.count > 20 { throw BotSettingsError("A widget may list at most 20 storefront origins.") }
        for origin in bot.widget.allowedOrigins where WidgetSettings.origin(origin) != origin {
            throw BotSettingsError("“\(origin)” is not a storefront origin; write it as https://shop.example.")
        }
    }
}

/// Another bot of the shop has this slug.
public struct BotSlugTaken: Error, Sendable, CustomStringConvertible {
    public let slug: String
    public var description: String { "A bot named “\(slug)” exists already." }
}

/// The plan allows no more bots.
public struct BotLimitReached: Error, Sendable, CustomStringConvertible {
    public let limit: Int
    public var description: String { "The plan allows \(limit) bot(s); remove one or move to a larger plan." }
}

struct BotRow: RowDecodable {
    let bot: Bot

    init(row: PostgresRow) throws {
        let (
            id, slug, name, avatar, greeting, fallback, language, threshold, onRequest, after, keywords, hours, away, origins, position,
            prechat, llm
        ) =
            try row.decode(
                (
                    Int, String, String, String?, String, String, String, Double?, Bool, Int, [String], String?, String, [String], String,
                    String, String
                )
                .self)
        bot = Bot(
            id: id, slug: slug, name: name, avatar: avatar, greeting: greeting, fallback: fallback,
            language: Bot.Language(rawValue: language) ?? .auto, threshold: threshold, handoffOnRequest: onRequest,
            handoffAfterFallbacks: after, handoffKeywords: keywords, hours: hours.flatMap(BusinessHours.init(json:)), awayMessage: away,
            widget: WidgetSettings(allowedOrigins: origins, position: position, prechatJSON: prechat), llm: LLMSettings(json: llm))
    }
}

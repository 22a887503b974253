import Foundation
import Hummingbird

/// A shop's bots, for a shop's key: `GET/POST /api/v1/bots` (within the plan's `bots` limit),
/// `GET/PUT /api/v1/bots/{slug}`, and `GET/PUT /api/v1/bot` for the first of them, the one a shop starts with.
struct BotAPIController: Sendable {
    let bots: BotStore
    let plans: PlanStore
    let access: BotAPIAccess
    let auditLog: AuditLog
    let model: BotModelAPI

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("bot") { request, context in try await show(request: request, context: context, slug: nil) }
        group.put("bot") { request, context in try await update(request: request, context: context, slug: nil) }
        group.get("bots", use: list)
        group.post("bots", use: create)
        group.get("bots/:slug") { request, context in
            try await show(request: request, context: context, slug: try context.parameters.require("slug"))
        }
        group.put("bots/:slug") { request, context in
            try await update(request: request, context: context, slug: try context.parameters.require("slug"))
        }
    }

    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let store = model.store
        let (all, keys) = try await access.read(tenant, context) { (try await bots.list(on: $0), try await store.botsWithKeys(on: $0)) }
        return APIJSON.response(BotListJSON(items: all.map { BotSettingsJSON($0, keySet: keys.contains($0.id)) }))
    }

    /// A new bot: `slug` and any of the settings; a 409 when the plan allows no more, or the slug is taken.
    @Sendable func create(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let body = try await APIJSON.decode(NewBotJSON.self, from: request, nullable: BotSettingsChange.nullable)
        try body.settings.unknown.filter { $0 != "slug" }.refuseUnknown()
        guard let slug = body.slug?.apiText, !slug.isEmpty else {
            throw APIError.validation([FieldProblem(field: "slug", message: "Required: a-z, 0-9 and -.")])
        }
        guard Slug.isValid(slug) else {
            throw APIError.validation([FieldProblem(field: "slug", message: "“\(slug)” is not a valid bot id: use a-z, 0-9 and -.")])
        }
        var bot = Bot(slug: slug)
        try body.settings.apply(to: &bot)
        if let llm = body.settings.llm {
            // A new bot has no key to keep, and its provider nothing stored to keep from.
            guard try llm.keyChange() == .keep else {
                throw APIError.validation([FieldProblem(field: "llm.api_key", message: "Set the key with PUT once the bot exists.")])
            }
            bot.llm = try llm.settings(over: bot.llm, endpoints: model.endpoints)
            if await model.endpoints.leadsInside(bot.llm.provider?.baseURL) { throw BotModelAPI.inside() }
        }
        let (plans, new) = (plans, bot)
        do {
            let created = try await access.write(tenant, context, field: "slug") { connection -> Bot? in
                let id = try await bots.create(new, tenantID: tenant.id, plans: plans, on: connection)
                try await auditLog.record(context.audit("bot.created", target: slug), on: connection)
                return try await bots.find(id: id, on: connection)
            }
            guard let created else { throw BotAPIAccess.noBot }
            return APIJSON.response(BotSettingsJSON(created, keySet: false), status: .created)
        } catch let full as BotLimitReached {
            throw APIError(.conflict, full.description)
        } catch let taken as BotSlugTaken {
            throw APIError(.conflict, taken.description)
        }
    }

    /// The bot named by `slug`, or the shop's first when it is nil.
    func show(request: Request, context: APIRequestContext, slug: String?) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let store = model.store
        let found = try await access.read(tenant, context) { connection -> (Bot, Bool)? in
            guard let bot = try await Self.find(slug, bots, on: connection) else { return nil }
            return (bot, try await store.sealedKey(botID: bot.id, on: connection) != nil)
        }
        guard let (bot, keySet) = found else { throw Self.missing(slug) }
        return APIJSON.response(BotSettingsJSON(bot, keySet: keySet))
    }

    /// Changes the fields given; the others keep their values (`null` clears `threshold` and `hours`).
    func update(request: Request, context: APIRequestContext, slug: String?) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let change = try await APIJSON.decode(BotSettingsChange.self, from: request, nullable: BotSettingsChange.nullable)
        try change.unknown.refuseUnknown()
        let model = model
        // A new model address is looked up before the transaction (never a network wait with one open).
        if let given = change.llm?.provider??.baseURL?.apiText {
            let bots = bots
            let stored = try await access.read(tenant, context) { try await Self.find(slug, bots, on: $0)?.llm.provider?.baseURL }
            if await model.endpoints.leadsInside(given, stored: stored) { throw BotModelAPI.inside() }
        }
        let updated = try await access.write(tenant, context, field: "bot") { connection -> (Bot, Bool)? in
            guard var bot = try await Self.find(slug, bots, on: connection) else { return nil }
            try change.apply(to: &bot)
            if let llm = change.llm { try await model.apply(llm, to: &bot, context: context, auditLog: auditLog, on: connection) }
            guard try await bots.update(bot, on: connection) else { return nil }
            try await auditLog.record(context.audit("bot.updated", target: bot.slug), on: connection)
            guard let stored = try await bots.find(id: bot.id, on: connection) else { return nil }
            return (stored, try await model.store.sealedKey(botID: bot.id, on: connection) != nil)
        }
        guard let (bot, keySet) = updated else { throw Self.missing(slug) }
        return APIJSON.response(BotSettingsJSON(bot, keySet: keySet))
    }

    static func find(_ slug: String?, _ bots: BotStore, on connection: TenantConnection) async throws -> Bot? {
        guard let slug else { return try await bots.find(id: nil, on: connection) }
        return try await bots.find(slug: slug, on: connection)
    }

    static func missing(_ slug: String?) -> APIError {
        guard let slug else { return BotAPIAccess.noBot }
        return APIError.notFound("This shop has no bot “\(slug)”.")
    }
}

struct BotListJSON: Encodable {
    let items: [BotSettingsJSON]
}

/// `POST /api/v1/bots`'s body: a `slug` and the settings `PUT` takes.
struct NewBotJSON: Decodable, Sendable {
    var slug: String?
    var settings: BotSettingsChange

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        slug = try container.optional(String.self, "slug")
        settings = try BotSettingsChange(from: decoder)
    }
}

import Foundation
import Hummingbird

/// A bot's messengers, for a shop's key: `GET /api/v1/bots/{slug}/channels`, `PUT /api/v1/bots/{slug}/channels/{kind}`
/// (connect or change: set up at the provider at once, the outcome in `status`) and `DELETE` (disconnect). Secrets are
/// never returned, only masked; every connection and disconnection is in the audit log.
struct ChannelsAPIController: Sendable {
    let access: BotAPIAccess
    let bots: BotStore
    let connections: ChannelConnectionStore
    let connector: ChannelConnector
    let auditLog: AuditLog

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("bots/:slug/channels", use: list)
        group.put("bots/:slug/channels/:kind", use: connect)
        group.delete("bots/:slug/channels/:kind", use: disconnect)
    }

    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let slug = try context.parameters.require("slug")
        let (bots, connections) = (bots, connections)
        let found = try await access.read(tenant, context) { connection -> [ChannelConnection]? in
            guard let bot = try await bots.find(slug: slug, on: connection) else { return nil }
            var list: [ChannelConnection] = []
            for kind in ChannelKind.allCases {
                if let stored = try await connections.find(botID: bot.id, kind: kind, on: connection) { list.append(stored) }
            }
            return list
        }
        guard let found else { throw Self.noBot(slug) }
        return APIJSON.response(
            ChannelListJSON(items: found.map { ChannelJSON(connection: $0, webhookURL: connector.webhookURL($0, tenant: tenant)) }))
    }

    /// Connects the bot (or changes its connection); a refused value is a 422 naming its field.
    @Sendable func connect(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let (slug, kind) = try Self.address(context)
        let change = try await APIJSON.decode(ChannelChangeJSON.self, from: request, nullable: ["handoff_contact"])
        try change.unknown.refuseUnknown()
        let asked = try change.request(kind)
        let bot = try await find(slug, tenant, context)
        if let refusal = ChannelInput.check(asked) { throw Self.problem(refusal) }
        let connection: ChannelConnection
        do {
            connection = try await connector.connect(asked, botID: bot.id, in: tenant, logger: context.logger)
        } catch let refusal as ChannelConnectionError {
            throw Self.problem(refusal)
        } catch is NoBot {
            throw Self.noBot(slug)
        }
        try await auditLog.record(context.audit("channel.connected", target: slug, details: ChannelInput.auditDetails(connection)))
        return APIJSON.response(ChannelJSON(connection: connection, webhookURL: connector.webhookURL(connection, tenant: tenant)))
    }

    @Sendable func disconnect(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let (slug, kind) = try Self.address(context)
        let bot = try await find(slug, tenant, context)
        // Disconnecting what is not connected leaves it so: the same 204, nothing audited.
        guard let removed = try await connector.disconnect(botID: bot.id, kind: kind, in: tenant, logger: context.logger) else {
            return APIJSON.noContent()
        }
        var details = ChannelInput.auditDetails(removed)
        details["status"] = nil
        details["detail"] = nil
        try await auditLog.record(context.audit("channel.disconnected", target: slug, details: details))
        return APIJSON.noContent()
    }

    /// The bot's slug and the channel's kind from the address; an unknown kind is a 404.
    static func address(_ context: APIRequestContext) throws -> (String, ChannelKind) {
        let slug = try context.parameters.require("slug")
        let word = context.parameters.get("kind") ?? ""
        guard let kind = ChannelKind(rawValue: word) else {
            throw APIError.notFound("There is no channel “\(word.prefix(40))”: telegram, whatsapp or alice.")
        }
        return (slug, kind)
    }

    static func noBot(_ slug: String) -> APIError {
        APIError.notFound("This shop has no bot “\(slug.prefix(60))”.")
    }

    static func problem(_ refusal: ChannelConnectionError) -> APIError {
        APIError.validation([FieldProblem(field: ChannelInput.field(of: refusal), message: refusal.description)])
    }

    private func find(_ slug: String, _ tenant: TenantRecord, _ context: APIRequestContext) async throws -> Bot {
        let bots = bots
        guard let bot = try await access.read(tenant, context, { try await bots.find(slug: slug, on: $0) }) else {
            throw Self.noBot(slug)
        }
        return bot
    }
}

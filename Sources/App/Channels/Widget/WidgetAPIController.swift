import Foundation
import HTTPTypes
import Hummingbird

/// The widget's API (`/widget/api`, on the shop's hosts): visitors and their signed identities, the conversation,
/// shoppers' messages. A message is stored with its answer's job in one transaction and acknowledged with 202; the
/// answer arrives on the event stream. The visitor's token comes in `Authorization: Bearer`, never in a URL.
struct WidgetAPIController {
    let access: WidgetAccess
    let engine: BotEngine
    let jobs: JobQueue
    let store: WidgetStore
    let settings: InboxSettingsStore
    let clock: WallClock

    var tenants: TenantDatabase { access.tenants }
    var visitors: WidgetVisitors { access.visitors }
    var limits: WidgetLimits { access.limits }
    var localizer: Localizer { access.localizer }

    func addRoutes(to group: RouterGroup<WidgetRequestContext>) {
        group.post(WidgetURL.visitors.pattern, use: createVisitor)
        group.post(WidgetURL.identify.pattern, use: identify)
        group.get(WidgetURL.conversation.pattern, use: conversation)
        group.post(WidgetURL.messages.pattern, use: send)
        group.post(WidgetURL.conversations.pattern, use: startConversation)
        // Preflights: `WidgetAPIMiddleware` answers them for allowed origins and refuses the rest.
        for address in WidgetURL.allCases where address.path.hasPrefix(WidgetURL.api) {
            group.on(address.pattern, method: .options) { _, _ in Response(status: .noContent) }
        }
    }

    struct BotBody: Decodable {
        var bot: String?
    }

    struct TokenJSON: Encodable {
        var token: String
        var sub: String?
    }

    struct ConversationJSON: Encodable {
        var conversation: WidgetConversation?
        var messages: [WidgetMessage]

        /// `conversation` is `null` when there is none (not left out).
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: JSONKey.self)
            try container.encode(conversation, forKey: JSONKey("conversation"))
            try container.encode(messages, forKey: JSONKey("messages"))
        }
    }

    /// `POST /widget/api/visitors` `{"bot"}`: a new anonymous visitor's token (404 when the shop has no such bot).
    func createVisitor(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(BotBody.self, from: request, fields: ["bot"])
        try limits.check(limits.newVisitors, context.clientAddress, context)
        let token = try await tenants.withTenant(context.tenant, logger: context.logger) { connection in
            _ = try await access.bot(body.bot, context, on: connection)
            return try await visitors.create(on: connection).token
        }
        return APIJSON.response(TokenJSON(token: token), status: .created)
    }

    struct IdentifyBody: Decodable {
        var jwt: String
    }

    /// `POST /widget/api/identify`: the shop's signed-in customer, vouched for by a JWT signed with the shop's widget
    /// secret, gets a token of their own: their conversations follow them from browser to browser.
    func identify(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(IdentifyBody.self, from: request, fields: ["jwt"])
        try limits.check(limits.writes, context.clientAddress, context)
        let refused = APIError.unauthorized(localizer.text("widget_error_identity", context.language), invalidToken: true)
        let (token, visitor) = try await tenants.withTenant(context.tenant, logger: context.logger) { connection in
            guard let secret = try await settings.identitySecret(on: connection) else { throw refused }
            let identity: SignedIdentity
            do {
                identity = try SignedIdentity.verify(body.jwt, secret: secret, now: clock.now())
            } catch {
                context.logger.info("A signed identity was refused", metadata: ["reason": "\(error)"])
                throw refused
            }
            return try await visitors.identify(identity, on: connection)
        }
        return APIJSON.response(TokenJSON(token: token, sub: visitor.customer))
    }

    /// `GET /widget/api/conversation?bot=`: the visitor's latest conversation with the bot and its last messages.
    func conversation(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let slug = request.uri.queryParameters.get("bot")
        let result = try await access.visitorTransaction(request, context) { visitor, connection in
            let bot = try await access.bot(slug, context, on: connection)
            guard let id = try await store.latest(contactID: visitor.contactID, botID: bot.id, on: connection),
                let conversation = try await store.conversation(id, contactID: visitor.contactID, on: connection)
            else { return ConversationJSON(conversation: nil, messages: []) }
            return ConversationJSON(conversation: conversation, messages: try await store.messages(id, on: connection))
        }
        return APIJSON.response(result)
    }

    struct MessageBody: Decodable {
        var bot: String?
        var text: String
        var clientID: String?

        enum CodingKeys: String, CodingKey {
            case bot, text
            case clientID = "client_id"
        }
    }

    struct SentJSON: Encodable {
        var message: WidgetMessage?
        var conversation: WidgetConversation?
    }

    /// `POST /widget/api/messages`: a shopper's message, stored (a retry with the same `client_id` is the same
    /// message) with its answer's job; 202. Its length is counted in code points as sent, before it is cleaned.
    func send(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(MessageBody.self, from: request, fields: ["bot", "text", "client_id"])
        let text = WidgetAccess.clean(body.text)
        let language = context.language
        var problems: [FieldProblem] = []
        if body.text.databaseLength > WidgetLimits.maximumLength {
            problems.append(FieldProblem(field: "text", message: localizer.text("widget_error_too_long", language)))
        } else if text.isEmpty {
            problems.append(FieldProblem(field: "text", message: localizer.text("widget_error_empty", language)))
        }
        if let clientID = body.clientID, !WidgetAccess.isClientID(clientID) {
            problems.append(FieldProblem(field: "client_id", message: "Use 1 to 64 letters, digits and hyphens."))
        }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        try limits.check(limits.messagesByAddress, context.clientAddress, context)
        let (visitor, bot, latest) = try await access.visitorTransaction(request, context) { visitor, connection in
            let bot = try await access.bot(body.bot, context, on: connection)
            return (visitor, bot, try await store.latest(contactID: visitor.contactID, botID: bot.id, on: connection))
        }
        try limits.check(limits.messagesByVisitor, String(visitor.contactID), context)
        let accepted = try await engine.accept(
            ShopperMessage(
                text: text, channel: .widget, conversationID: latest, channelMessageID: body.clientID.map { "\(visitor.contactID):\($0)" },
                botID: bot.id, contactID: visitor.contactID),
            in: context.tenant, jobs: jobs, logger: context.logger)
        let sent = try await tenants.withTenant(context.tenant, readOnly: true, logger: context.logger) { connection in
            // A retry's message is where it was first stored, which may be an earlier conversation than the latest.
            let conversationID =
                accepted.duplicate
                ? try await connection.value(Int.self, "SELECT conversation_id::int FROM messages WHERE id = \(accepted.messageID)")
                    ?? accepted.conversation.id : accepted.conversation.id
            return SentJSON(
                message: try await store.message(accepted.messageID, in: conversationID, on: connection),
                conversation: try await store.conversation(conversationID, contactID: visitor.contactID, on: connection))
        }
        return APIJSON.response(sent, status: .accepted)
    }

    /// `POST /widget/api/conversations`: "start a new conversation" (the old one stays where it is).
    func startConversation(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(BotBody.self, from: request, fields: ["bot"])
        try limits.check(limits.writes, context.clientAddress, context)
        let started = try await access.visitorTransaction(request, context) { visitor, connection in
            let bot = try await access.bot(body.bot, context, on: connection)
            let conversation = try await ConversationStore().open(
                botID: bot.id, contactID: visitor.contactID, channel: .widget, reuse: false, on: connection)
            return ConversationJSON(
                conversation: try await store.conversation(conversation.id, contactID: visitor.contactID, on: connection), messages: [])
        }
        return APIJSON.response(started, status: .created)
    }
}

import Foundation
import Hummingbird

/// The conversations API for a shop's key (`/api/v1/conversations`): list with filters and cursors, read one with its
/// messages (notes and the bot's explanations included) and events, reply as an operator or leave a note, assign,
/// release, resolve, hand back to the bot; and `DELETE /api/v1/contacts/{id}` for a shopper's erasure request. Writes
/// act as the key's creator, who must answer conversations in the shop (`conversations:write`).
struct ConversationsAPIController: Sendable {
    let access: BotAPIAccess
    let inbox: InboxStore
    let actions: InboxActions
    let auditLog: AuditLog

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("conversations", use: list)
        group.get("conversations/:id", use: show)
        group.get("conversations/:id/messages", use: messages)
        group.post("conversations/:id/messages", use: reply)
        group.post("conversations/:id/assign", use: assign)
        group.post("conversations/:id/release", use: release)
        group.post("conversations/:id/resolve", use: resolve)
        group.post("conversations/:id/handback", use: handBack)
        group.delete("contacts/:id", use: deleteContact)
    }

    struct ConversationJSON: Encodable {
        let row: InboxRow

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode(row.id, forKey: JSONKey("id"))
            try c.encode(row.state.rawValue, forKey: JSONKey("state"))
            try c.encode(row.channel.rawValue, forKey: JSONKey("channel"))
            try c.encode(ContactJSON(name: row.contactName, email: row.contactEmail), forKey: JSONKey("contact"))
            try c.encode(row.assigneeID, forKey: JSONKey("assignee_id"))
            try c.encode(row.assigneeName, forKey: JSONKey("assignee_name"))
            try c.encode(row.lastText, forKey: JSONKey("last_message"))
            try c.encode(row.lastMessageAt, forKey: JSONKey("last_message_at"))
            try c.encode(row.waitingSince, forKey: JSONKey("waiting_since"))
            try c.encode(row.csat, forKey: JSONKey("csat"))
        }
    }

    struct ContactJSON: Encodable {
        var id: Int? = nil
        var name: String?
        var email: String?
        var phone: String? = nil

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            if let id { try c.encode(id, forKey: JSONKey("id")) }
            try c.encode(name, forKey: JSONKey("name"))
            try c.encode(email, forKey: JSONKey("email"))
            if id != nil { try c.encode(phone, forKey: JSONKey("phone")) }
        }
    }

    struct DetailJSON: Encodable {
        let conversation: InboxConversation
        let events: [InboxEvent]

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            let v = conversation
            try c.encode(v.id, forKey: JSONKey("id"))
            try c.encode(v.state.rawValue, forKey: JSONKey("state"))
            try c.encode(v.channel.rawValue, forKey: JSONKey("channel"))
            try c.encode(v.language?.rawValue, forKey: JSONKey("language"))
            try c.encode(
                ContactJSON(id: v.contactID, name: v.contactName, email: v.contactEmail, phone: v.contactPhone), forKey: JSONKey("contact"))
            try c.encode(v.assigneeID, forKey: JSONKey("assignee_id"))
            try c.encode(v.assigneeName, forKey: JSONKey("assignee_name"))
            try c.encode(v.waitingSince, forKey: JSONKey("waiting_since"))
            try c.encode(v.csat, forKey: JSONKey("csat"))
            try c.encode(v.csatComment, forKey: JSONKey("csat_comment"))
            try c.encode(v.createdAt, forKey: JSONKey("created_at"))
            try c.encode(events.map(EventJSON.init), forKey: JSONKey("events"))
        }
    }

    struct EventJSON: Encodable {
        let event: InboxEvent

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode(event.from?.rawValue, forKey: JSONKey("from"))
            try c.encode(event.to.rawValue, forKey: JSONKey("to"))
            try c.encode(event.reason, forKey: JSONKey("reason"))
            try c.encode(event.actor.rawValue, forKey: JSONKey("actor"))
            try c.encode(event.actorName, forKey: JSONKey("actor_name"))
            try c.encode(event.createdAt, forKey: JSONKey("at"))
        }
    }

    struct MessageJSON: Encodable {
        let message: InboxMessage

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            let m = message
            try c.encode(m.id, forKey: JSONKey("id"))
            try c.encode(m.author.rawValue, forKey: JSONKey("author"))
            try c.encode(m.authorName, forKey: JSONKey("author_name"))
            try c.encode(m.text, forKey: JSONKey("text"))
            try c.encode(m.parts, forKey: JSONKey("parts"))
            try c.encode(m.internalNote, forKey: JSONKey("internal"))
            try c.encode(m.delivery, forKey: JSONKey("delivery"))
            try c.encode(m.explanation, forKey: JSONKey("explanation"))
            try c.encode(m.createdAt, forKey: JSONKey("created_at"))
        }
    }

    /// `GET /conversations?state=&channel=&assignee=&limit=&cursor=`, the latest first.
    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.conversationsRead)
        let tenant = try await access.shop(context)
        let query = request.uri.queryParameters
        var filter = InboxFilter()
        if let state = query.get("state") {
            let states = try state.split(separator: ",", omittingEmptySubsequences: false).map { name in
                guard let state = ConversationState(rawValue: String(name)) else {
                    throw APIError(.invalidParameter, "`state` must be bot, waiting, assigned or resolved (comma-separated).")
                }
                return state
            }
            filter.states = states
        }
        if let channel = query.get("channel") {
            guard let value = ConversationChannel(rawValue: channel), value != .test else {
                throw APIError(.invalidParameter, "`channel` must be api, widget, telegram, whatsapp or alice.")
            }
            filter.channel = value
        }
        if let assignee = query.get("assignee") {
            guard let id = UUID(uuidString: assignee) else { throw APIError(.invalidParameter, "`assignee` must be a user id.") }
            filter.assignee = id
        }
        let page = try PageRequest(request)
        let before = try page.after.map(Self.decodeCursor)
        let chosen = filter
        let rows = try await access.read(tenant, context) { connection in
            try await inbox.list(chosen, before: before, limit: page.limit + 1, on: connection)
        }
        return APIJSON.response(page.page(rows, key: Self.cursorKey, item: ConversationJSON.init))
    }

    static func cursorKey(_ row: InboxRow) -> String { String(row.sortKey) + ":" + String(row.id) }

    static func decodeCursor(_ key: String) throws -> (Int64, Int) {
        let parts = key.split(separator: ":")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = Int(parts[1]) else { throw PageRequest.badCursor }
        return (micros, id)
    }

    /// `GET /conversations/{id}`: the conversation, its contact and its events.
    @Sendable func show(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.conversationsRead)
        let tenant = try await access.shop(context)
        let id = try Self.id(context)
        let detail = try await access.read(tenant, context) { connection -> DetailJSON? in
            guard let conversation = try await inbox.conversation(id, on: connection) else { return nil }
            return DetailJSON(conversation: conversation, events: try await inbox.events(id, on: connection))
        }
        guard let detail else { throw Self.noSuchConversation }
        return APIJSON.response(detail)
    }

    /// `GET /conversations/{id}/messages?after=`: messages and notes, oldest first (up to 300 after `after`).
    @Sendable func messages(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.conversationsRead)
        let tenant = try await access.shop(context)
        let id = try Self.id(context)
        let after =
            try request.uri.queryParameters.get("after").map { text in
                guard let value = Int(text), value >= 0 else { throw APIError(.invalidParameter, "`after` must be a message id.") }
                return value
            } ?? 0
        let messages = try await access.read(tenant, context) { connection -> [InboxMessage]? in
            guard try await inbox.conversation(id, on: connection) != nil else { return nil }
            return try await inbox.messages(id, after: after, on: connection)
        }
        guard let messages else { throw Self.noSuchConversation }
        return APIJSON.response(ListJSON(data: messages.map(MessageJSON.init)))
    }

    struct ListJSON<Item: Encodable>: Encodable {
        let data: [Item]
    }

    struct ReplyBody: Decodable {
        var text: String?
        var `internal`: Bool?
        /// WhatsApp outside the 24-hour window: the approved template's name (instead of `text`).
        var template: String?
    }

    /// `POST /conversations/{id}/messages`: an operator's reply (taking the conversation if nobody holds it), a note
    /// with `"internal": true`, or on WhatsApp an approved template (`"template": "<name>"`).
    @Sendable func reply(request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(ReplyBody.self, from: request, fields: ["text", "internal", "template"])
        // Exactly one of the two, and the text's length as sent (the document's maxLength).
        if body.text != nil, body.template != nil {
            throw APIError.validation([FieldProblem(field: "template", message: "Send either text or a template, not both.")])
        }
        if let text = body.text, text.databaseLength > InboxActions.maximumLength {
            throw APIError.validation([FieldProblem(field: "text", message: "At most \(InboxActions.maximumLength) characters.")])
        }
        let action: InboxActions.Action =
            if let template = body.template { .template(template) } else if body.internal == true { .note(body.text ?? "") } else {
                .reply(body.text ?? "")
            }
        return try await perform(action, context, status: .created)
    }

    struct AssignBody: Decodable {
        var userID: UUID?

        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
        }
    }

    /// `POST /conversations/{id}/assign {"user_id": ...}` (the key's creator when left out).
    @Sendable func assign(request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(AssignBody.self, from: request, fields: ["user_id"])
        return try await perform(.assign(body.userID ?? (try Self.actor(context))), context)
    }

    @Sendable func release(request: Request, context: APIRequestContext) async throws -> Response {
        try await perform(.release, context)
    }

    @Sendable func resolve(request: Request, context: APIRequestContext) async throws -> Response {
        try await perform(.resolve, context)
    }

    @Sendable func handBack(request: Request, context: APIRequestContext) async throws -> Response {
        try await perform(.handBack, context)
    }

    /// Does `action` as the key's creator; answers the conversation as it is after.
    func perform(_ action: InboxActions.Action, _ context: APIRequestContext, status: HTTPResponse.Status = .ok) async throws -> Response {
        try context.require(.conversationsWrite)
        let tenant = try await access.shop(context)
        let id = try Self.id(context)
        let user = try Self.actor(context)
        let detail: DetailJSON?
        do {
            // One transaction: the operator checked, the action done, the conversation read as it is after.
            detail = try await access.tenants.withTenant(tenant, logger: context.logger) { connection -> DetailJSON? in
                guard try await InboxActions.mayAnswer(user, tenant: tenant, on: connection) else {
                    throw APIError(.forbidden, "The key's creator no longer answers conversations in this shop.")
                }
                try await actions.perform(action, conversation: id, user: user, in: tenant, on: connection)
                guard let conversation = try await inbox.conversation(id, on: connection) else { return nil }
                return DetailJSON(conversation: conversation, events: try await inbox.events(id, on: connection))
            }
        } catch let error as InboxError {
            switch error {
            case .notFound: throw Self.noSuchConversation
            case .empty: throw APIError.validation([FieldProblem(field: "text", message: "Required.")])
            case .tooLong: throw APIError.validation([FieldProblem(field: "text", message: "At most 10000 characters.")])
            case .notATeammate: throw APIError.validation([FieldProblem(field: "user_id", message: "Not an operator of this shop.")])
            case .windowClosed:
                throw APIError(
                    .conflict,
                    "More than 24 hours since the shopper's last WhatsApp message: send an approved template (\"template\": \"<name>\").")
            case .noTemplate:
                throw APIError.validation([
                    FieldProblem(field: "template", message: "Not an approved template of this WhatsApp connection.")
                ])
            }
        } catch let error as IllegalTransition {
            throw APIError(.conflict, error.description)
        } catch let error as ConversationMoved {
            throw APIError(.conflict, error.description)
        }
        guard let detail else { throw Self.noSuchConversation }
        return APIJSON.response(detail, status: status)
    }

    /// `DELETE /contacts/{id}`: a shopper's data (contact, identities, conversations, messages) erased; audited.
    @Sendable func deleteContact(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.conversationsWrite)
        let tenant = try await access.shop(context)
        let id = try Self.id(context)
        let deleted = try await access.tenants.withTenant(tenant, logger: context.logger) { connection -> Bool in
            let gone = try await connection.value(Int.self, "DELETE FROM contacts WHERE id = \(id) RETURNING id::int") != nil
            if gone {
                try await auditLog.record(context.audit("inbox.contact_deleted", target: String(id), tenantID: tenant.id), on: connection)
            }
            return gone
        }
        guard deleted else { throw APIError.notFound("There is no contact \(id).") }
        return APIJSON.noContent()
    }

    static let noSuchConversation = APIError.notFound("There is no such conversation.")

    static func id(_ context: APIRequestContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else { throw APIError.notFound() }
        return id
    }

    static func actor(_ context: APIRequestContext) throws -> UUID {
        guard let user = context.key.createdBy else {
            throw APIError(.forbidden, "This key has no creator to act as; make a new key in the panel.")
        }
        return user
    }
}

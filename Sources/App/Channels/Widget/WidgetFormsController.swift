import Foundation
import Hummingbird

/// The widget's smaller writes: the pre-chat form, a message left when nobody answers, the rating of a resolved
/// conversation, typing notices and read receipts.
struct WidgetFormsController {
    let access: WidgetAccess
    let feed: ConversationFeed
    let database: Database

    var localizer: Localizer { access.localizer }
    var limits: WidgetLimits { access.limits }

    func addRoutes(to group: RouterGroup<WidgetRequestContext>) {
        group.post(WidgetURL.contact.pattern, use: contact)
        group.post(WidgetURL.offline.pattern, use: offline)
        group.post(WidgetURL.csat.pattern, use: rate)
        group.post(WidgetURL.typing.pattern, use: typing)
        group.post(WidgetURL.read.pattern, use: read)
    }

    struct ContactBody: Decodable {
        var bot: String?
        var name: String?
        var email: String?
        var phone: String?
        var text: String?
    }

    struct Done: Encodable {
        var ok = true
    }

    /// The fields each form takes (anything else is refused).
    static let contactFields: Set<String> = ["bot", "name", "email", "phone"]
    static let offlineFields = contactFields.union(["text"])

    /// `POST /widget/api/contact`: the pre-chat form (the bot's required fields checked).
    func contact(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(ContactBody.self, from: request, fields: Self.contactFields)
        let fields = try check(body, offline: false, context)
        try limits.check(limits.writes, context.clientAddress, context)
        try await access.visitorTransaction(request, context) { visitor, connection in
            let bot = try await access.bot(body.bot, context, on: connection)
            try require(fields, bot.widget, context)
            try await save(fields, contactID: visitor.contactID, on: connection)
        }
        return APIJSON.response(Done())
    }

    /// `POST /widget/api/offline`: a message left outside business hours or with nobody online: a new conversation
    /// waiting for a person, with the shopper's e-mail to answer to.
    func offline(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(ContactBody.self, from: request, fields: Self.offlineFields)
        let fields = try check(body, offline: true, context)
        try limits.check(limits.messagesByAddress, context.clientAddress, context)
        try await access.visitorTransaction(request, context) { visitor, connection in
            let bot = try await access.bot(body.bot, context, on: connection)
            try require(fields, bot.widget, context)
            try await save(fields, contactID: visitor.contactID, on: connection)
            let conversations = ConversationStore()
            let conversation = try await conversations.open(
                botID: bot.id, contactID: visitor.contactID, channel: .widget, reuse: false, on: connection)
            try await connection.execute(
                """
                INSERT INTO messages (conversation_id, channel, author, text) VALUES (\(conversation.id), 'widget', 'shopper', \(fields.text))
                """)
            var waiting = conversation
            waiting.state = try await conversations.apply(.handOff(.offlineMessage), to: conversation, on: connection)
            _ = try await conversations.autoAssign(waiting, on: connection)
        }
        return APIJSON.response(Done(), status: .accepted)
    }

    struct Fields: Sendable {
        var name: String?
        var email: String?
        var phone: String?
        var text: String
    }

    /// The form's fields as the OpenAPI document states them: lengths counted in code points as sent; then the name and
    /// the text cleaned, the e-mail and the phone trimmed (blank is left out); an e-mail or a phone given must look like
    /// one. A message left for later needs its text and an address to answer to. 422 naming each field refused.
    func check(_ body: ContactBody, offline: Bool, _ context: WidgetRequestContext) throws -> Fields {
        let t = localizer.catalog(context.language)
        let required = t["widget_error_required"] ?? "Required."
        var problems: [FieldProblem] = []
        func refuse(_ field: String, _ key: String) {
            problems.append(FieldProblem(field: field, message: t[key] ?? key))
        }
        func given(_ text: String) -> String? { text.isEmpty ? nil : text }
        let name = body.name.flatMap { given(WidgetAccess.clean($0)) }
        if let raw = body.name, raw.databaseLength > 200 { refuse("name", "widget_error_name_long") }
        let email = body.email.flatMap { given(WidgetAccess.trimmed($0)) }
        if let raw = body.email, raw.databaseLength > 320 || email.map(WidgetAccess.isEmail) == false {
            refuse("email", "widget_error_email")
        } else if offline, email == nil {
            problems.append(FieldProblem(field: "email", message: required))
        }
        let phone = body.phone.flatMap { given(WidgetAccess.trimmed($0)) }
        if let raw = body.phone, raw.databaseLength > 40 || phone.map(WidgetAccess.isPhone) == false {
            refuse("phone", "widget_error_phone")
        }
        let text = WidgetAccess.clean(body.text ?? "")
        if let raw = body.text, raw.databaseLength > WidgetLimits.maximumLength {
            refuse("text", "widget_error_too_long")
        } else if offline, text.isEmpty {
            problems.append(FieldProblem(field: "text", message: required))
        }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        return Fields(name: name, email: email, phone: phone, text: text)
    }

    /// 422 naming each field the bot's pre-chat form requires and the shopper left blank.
    func require(_ fields: Fields, _ widget: WidgetSettings, _ context: WidgetRequestContext) throws {
        let required = localizer.text("widget_error_required", context.language)
        var problems: [FieldProblem] = []
        if widget.name == .required, fields.name == nil { problems.append(FieldProblem(field: "name", message: required)) }
        if widget.email == .required, fields.email == nil { problems.append(FieldProblem(field: "email", message: required)) }
        if widget.phone == .required, fields.phone == nil { problems.append(FieldProblem(field: "phone", message: required)) }
        guard problems.isEmpty else { throw APIError.validation(problems) }
    }

    func save(_ fields: Fields, contactID: Int, on connection: TenantConnection) async throws {
        try await connection.execute(
            """
            UPDATE contacts SET name = coalesce(\(fields.name), name), email = coalesce(\(fields.email), email),
                phone = coalesce(\(fields.phone), phone), updated_at = now()
            WHERE id = \(contactID)
            """)
    }

    struct RatingBody: Decodable {
        var conversation: Int
        var rating: Int
        var comment: String?
    }

    /// `POST /widget/api/csat`: 1 to 5 and a comment for a resolved conversation of the visitor's, once (409 after, or
    /// before it is resolved; 404 for a conversation that is not the visitor's).
    func rate(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(RatingBody.self, from: request, fields: ["conversation", "rating", "comment"])
        var problems: [FieldProblem] = []
        if !(1...5).contains(body.rating) {
            problems.append(FieldProblem(field: "rating", message: localizer.text("widget_error_rating", context.language)))
        }
        if let comment = body.comment, comment.databaseLength > WidgetLimits.maximumLength {
            problems.append(FieldProblem(field: "comment", message: localizer.text("widget_error_too_long", context.language)))
        }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        try limits.check(limits.writes, context.clientAddress, context)
        let comment = WidgetAccess.clean(body.comment ?? "")
        let rated = try await access.visitorTransaction(request, context) { visitor, connection -> Bool? in
            guard
                let row = try await connection.value(
                    (String, Bool).self,
                    """
                    SELECT state, csat_rating IS NOT NULL FROM conversations
                    WHERE id = \(body.conversation) AND contact_id = \(visitor.contactID) AND channel = 'widget' FOR UPDATE
                    """)
            else { return nil }
            guard row.0 == ConversationState.resolved.rawValue, !row.1 else { return false }
            try await connection.execute(
                """
                UPDATE conversations SET csat_rating = \(body.rating), csat_comment = \(comment.isEmpty ? nil : comment), updated_at = now()
                WHERE id = \(body.conversation)
                """)
            return true
        }
        guard let rated else { throw APIError.notFound(localizer.text("widget_error_conversation", context.language)) }
        guard rated else { throw APIError(.conflict, localizer.text("widget_error_not_resolved", context.language)) }
        return APIJSON.response(Done())
    }

    struct TypingBody: Decodable {
        var conversation: Int
    }

    /// `POST /widget/api/typing`: tells the operators' inboxes (nothing is stored; over the limit, nothing is sent).
    func typing(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(TypingBody.self, from: request, fields: ["conversation"])
        let contact = try await access.visitorTransaction(request, context) { visitor, connection in
            try await connection.value(
                Int.self,
                "SELECT contact_id::int FROM conversations WHERE id = \(body.conversation) AND contact_id = \(visitor.contactID)")
        }
        guard let contact else { throw APIError.notFound(localizer.text("widget_error_conversation", context.language)) }
        if limits.allows(limits.typing, String(contact), context) {
            try await feed.typing(context.tenant, conversation: body.conversation, author: .shopper, name: nil, database: database)
        }
        return APIJSON.noContent()
    }

    struct ReadBody: Decodable {
        var conversation: Int
        var message: Int
    }

    /// `POST /widget/api/read`: the shopper has seen the conversation up to `message`, one of its messages the widget
    /// shows (404 for a conversation that is not the visitor's or a message that is not in it).
    func read(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(ReadBody.self, from: request, fields: ["conversation", "message"])
        let read = try await access.visitorTransaction(request, context) { visitor, connection in
            try await connection.value(
                Int.self,
                """
                WITH c AS (UPDATE conversations SET shopper_read_id = greatest(shopper_read_id, \(body.message))
                    WHERE id = \(body.conversation) AND contact_id = \(visitor.contactID)
                        AND EXISTS (SELECT 1 FROM messages WHERE id = \(body.message) AND conversation_id = \(body.conversation) AND NOT internal)
                    RETURNING id),
                m AS (UPDATE messages SET delivery = 'read' WHERE conversation_id IN (SELECT id FROM c) AND id <= \(body.message)
                    AND author IN ('operator', 'bot') AND delivery IN ('queued', 'sent', 'delivered'))
                SELECT id::int FROM c
                """)
        }
        guard read != nil else { throw APIError.notFound(localizer.text("widget_error_conversation", context.language)) }
        return APIJSON.noContent()
    }
}

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

    /// `POST /widget/api/contact`: the pre-chat form (the bot's required fields checked).
    func contact(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(ContactBody.self, from: request)
        try limits.check(limits.writes, context.clientAddress, context)
        try await access.visitorTransaction(request, context) { visitor, connection in
            let bot = try await access.bot(body.bot, context, on: connection)
            let fields = try check(body, bot.widget, offline: false, context)
            try await save(fields, contactID: visitor.contactID, on: connection)
        }
        return APIJSON.response(Done())
    }

    /// `POST /widget/api/offline`: a message left outside business hours or with nobody online: a new conversation
    /// waiting for a person, with the shopper's e-mail to answer to.
    func offline(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(ContactBody.self, from: request)
        try limits.check(limits.messagesByAddress, context.clientAddress, context)
        try await access.visitorTransaction(request, context) { visitor, connection in
            let bot = try await access.bot(body.bot, context, on: connection)
            let fields = try check(body, bot.widget, offline: true, context)
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

    /// The form's fields, trimmed; 422 naming each field the bot requires and lacks, or that is malformed.
    func check(_ body: ContactBody, _ widget: WidgetSettings, offline: Bool, _ context: WidgetRequestContext) throws -> Fields {
        let t = localizer.catalog(context.language)
        func value(_ text: String?, _ limit: Int) -> String? {
            let clean = WidgetAccess.clean(text ?? "")
            return clean.isEmpty ? nil : String(clean.prefix(limit))
        }
        let fields = Fields(
            name: value(body.name, 200), email: value(body.email, 320), phone: value(body.phone, 40), text: value(body.text, 2000) ?? "")
        var problems: [FieldProblem] = []
        let required = t["widget_error_required"] ?? "Required."
        if widget.name == .required, fields.name == nil { problems.append(FieldProblem(field: "name", message: required)) }
        // A message left for later needs an address to answer to.
        if widget.email == .required || offline, fields.email == nil { problems.append(FieldProblem(field: "email", message: required)) }
        if widget.phone == .required, fields.phone == nil { problems.append(FieldProblem(field: "phone", message: required)) }
        if let email = fields.email, !Self.isEmail(email) {
            problems.append(FieldProblem(field: "email", message: t["widget_error_email"] ?? "Check the e-mail."))
        }
        if let phone = fields.phone, phone.filter(\.isNumber).count < 5 {
            problems.append(FieldProblem(field: "phone", message: t["widget_error_phone"] ?? "Check the phone."))
        }
        if offline, fields.text.isEmpty { problems.append(FieldProblem(field: "text", message: required)) }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        return fields
    }

    func save(_ fields: Fields, contactID: Int, on connection: TenantConnection) async throws {
        try await connection.execute(
            """
            UPDATE contacts SET name = coalesce(\(fields.name), name), email = coalesce(\(fields.email), email),
                phone = coalesce(\(fields.phone), phone), updated_at = now()
            WHERE id = \(contactID)
            """)
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && !text.contains(where: \.isWhitespace)
    }

    struct RatingBody: Decodable {
        var conversation: Int
        var rating: Int
        var comment: String?
    }

    /// `POST /widget/api/csat`: 1 to 5 and a comment for a resolved conversation of the visitor's, once (409 after).
    func rate(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(RatingBody.self, from: request)
        guard (1...5).contains(body.rating) else {
            throw APIError.validation([FieldProblem(field: "rating", message: localizer.text("widget_error_rating", context.language))])
        }
        try limits.check(limits.writes, context.clientAddress, context)
        let comment = WidgetAccess.clean(body.comment ?? "").prefix(2000)
        let rated = try await access.visitorTransaction(request, context) { visitor, connection in
            try await connection.value(
                Int.self,
                """
                UPDATE conversations SET csat_rating = \(body.rating), csat_comment = \(comment.isEmpty ? nil : String(comment)),
                    updated_at = now()
                WHERE id = \(body.conversation) AND contact_id = \(visitor.contactID) AND channel = 'widget' AND state = 'resolved'
                    AND csat_rating IS NULL
                RETURNING id::int
                """)
        }
        guard rated != nil else { throw APIError(.conflict, localizer.text("widget_error_not_resolved", context.language)) }
        return APIJSON.response(Done())
    }

    struct ConversationBody: Decodable {
        var conversation: Int
        var message: Int?
    }

    /// `POST /widget/api/typing`: tells the operators' inboxes (nothing is stored; over the limit, nothing is sent).
    func typing(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(ConversationBody.self, from: request)
        let contact = try await access.visitorTransaction(request, context) { visitor, connection in
            try await connection.value(
                Int.self,
                "SELECT contact_id::int FROM conversations WHERE id = \(body.conversation) AND contact_id = \(visitor.contactID)")
        }
        guard let contact else { throw APIError.notFound() }
        if limits.allows(limits.typing, String(contact), context) {
            try await feed.typing(context.tenant, conversation: body.conversation, author: .shopper, name: nil, database: database)
        }
        return APIJSON.noContent()
    }

    /// `POST /widget/api/read`: the shopper has seen the conversation up to `message`.
    func read(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(ConversationBody.self, from: request)
        try await access.visitorTransaction(request, context) { visitor, connection in
            let read = body.message ?? 0
            try await connection.execute(
                """
                WITH c AS (UPDATE conversations SET shopper_read_id = greatest(shopper_read_id, \(read))
                    WHERE id = \(body.conversation) AND contact_id = \(visitor.contactID) RETURNING id)
                UPDATE messages SET delivery = 'read' WHERE conversation_id IN (SELECT id FROM c) AND id <= \(read)
                    AND author IN ('operator', 'bot') AND delivery IN ('queued', 'sent', 'delivered')
                """)
        }
        return APIJSON.noContent()
    }
}

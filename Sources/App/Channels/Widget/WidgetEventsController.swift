import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `GET /widget/api/events?conversation=`: the conversation's live events as server-sent events. The stream starts
/// with the conversation's state and every message after `Last-Event-ID` (the last one the widget has), then follows
/// `ConversationFeed`: each notification makes it read what is new from the database, so a widget that was offline
/// for a while resumes with nothing missed, and an operator's reply written by another process arrives as soon as
/// its transaction commits. Messages carry their id as the event id; a comment every 15 s keeps proxies from closing
/// an idle stream and tells this process when the shopper has gone.
struct WidgetEventsController {
    let access: WidgetAccess
    let store: WidgetStore
    let feed: ConversationFeed
    let keepAlive: Duration
    let reads: SharedMessageReads

    func addRoutes(to group: RouterGroup<WidgetRequestContext>) {
        group.get(WidgetURL.events.pattern, use: events)
    }

    func events(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        guard let id = request.uri.queryParameters.get("conversation").flatMap(Int.init) else {
            throw APIError(.invalidParameter, "Name the conversation: ?conversation=<id>.")
        }
        let resume = request.headers[.lastEventID].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        // The visitor and the conversation are checked once, before the stream starts.
        let contact = try await access.visitorTransaction(request, context) { visitor, connection in
            try await store.conversation(id, contactID: visitor.contactID, on: connection) == nil ? nil : visitor.contactID
        }
        guard let contact else { throw APIError.notFound(access.localizer.text("widget_error_conversation", context.language)) }
        let tenant = context.tenant
        let events = feed.subscribe(schema: tenant.schema.value, conversation: id)
        let logger = context.logger
        // A shopper who left is the usual end; the widget reconnects from the last id in any case.
        return eventStreamResponse(logger: logger, ended: "A widget event stream ended", level: .debug) {
            [access, store, keepAlive, reads] writer in
            let stream = EventStream(
                tenants: access.tenants, store: store, reads: reads, tenant: tenant, conversation: id, contact: contact, lastMessage: resume
            )
            try await stream.run(events: events, keepAlive: keepAlive, writer: &writer)
        }
    }
}

/// One widget's stream: writes the catch-up, then wakes on the feed's events and on the keep-alive clock.
struct EventStream: Sendable {
    let tenants: TenantDatabase
    let store: WidgetStore
    let reads: SharedMessageReads
    let tenant: TenantRecord
    let conversation: Int
    let contact: Int
    var lastMessage: Int

    func run(events: AsyncStream<ConversationFeed.Event>, keepAlive: Duration, writer: inout any ResponseBodyWriter) async throws {
        var stream = self
        try await stream.catchUp(state: true, writer: &writer)
        try await events.withKeepAlive(every: keepAlive, buffer: 32) { wakes in
            for await wake in wakes.cancelOnGracefulShutdown() {
                switch wake {
                case .keepAlive:
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                case .event(.typing(_, let author, let name)):
                    guard author != .shopper else { continue }
                    try await writer.write(Self.event("typing", data: TypingJSON(author: author.rawValue, name: name)))
                case .event(.message(_, let id)):
                    if id > stream.lastMessage { try await stream.catchUp(state: false, writer: &writer) }
                case .event(.draft(_, let replyTo)):
                    if let draft = try await stream.draft(replyTo) { try await writer.write(Self.event("draft", data: draft)) }
                case .event(.state), .event(.resync):
                    try await stream.catchUp(state: true, writer: &writer)
                }
            }
        }
    }

    struct DraftJSON: Encodable {
        var replyTo: Int
        var text: String

        enum CodingKeys: String, CodingKey {
            case text
            case replyTo = "reply_to"
        }
    }

    /// The bot's answer so far, while a language model writes it (nil once stored).
    func draft(_ replyTo: Int) async throws -> DraftJSON? {
        let id = conversation
        return try await tenants.withTenant(tenant, readOnly: true, admitting: .activeOrSuspended) { connection in
            try await connection.value(
                String.self, "SELECT text FROM answer_drafts WHERE conversation_id = \(id) AND reply_to = \(replyTo)"
            ).map { DraftJSON(replyTo: replyTo, text: $0) }
        }
    }

    struct TypingJSON: Encodable {
        var author: String
        var name: String?
    }

    /// Writes the state (when asked) and every message after the last one written.
    mutating func catchUp(state: Bool, writer: inout any ResponseBodyWriter) async throws {
        let (id, contact, after) = (conversation, contact, lastMessage)
        guard state else {
            // A new message: one prepared read, no transaction.
            for message in try await reads.messages(tenant, conversation: id, after: after) {
                try await writer.write(Self.event("message", id: message.id, data: message))
                lastMessage = message.id
            }
            return
        }
        let (current, messages) = try await tenants.withTenant(tenant, readOnly: true, admitting: .activeOrSuspended) {
            [store] connection -> (WidgetConversation?, [WidgetMessage]) in
            (
                state ? try await store.conversation(id, contactID: contact, on: connection) : nil,
                try await store.messages(id, after: after, limit: 500, on: connection)
            )
        }
        if let current { try await writer.write(Self.event("state", data: current)) }
        for message in messages {
            try await writer.write(Self.event("message", id: message.id, data: message))
            lastMessage = message.id
        }
    }

    static func event(_ name: String, id: Int? = nil, data: some Encodable) -> ByteBuffer {
        var buffer = ByteBuffer(string: "event: \(name)\n")
        if let id { buffer.writeString("id: \(id)\n") }
        var json = APIJSON.encode(data)
        buffer.writeString("data: ")
        buffer.writeBuffer(&json)
        buffer.writeString("\n\n")
        return buffer
    }
}

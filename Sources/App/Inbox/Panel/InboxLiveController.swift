import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What keeps an open inbox page live: the shop's conversation events as server-sent events
/// (`/admin/inbox/events`), the operator's typing notices (`/admin/inbox/<id>/typing`) and presence reports
/// (`/admin/inbox/presence`, every 30 s from inbox.js, or the "away" toggle as a plain form). The POSTs carry the
/// session's CSRF token in their `_csrf` field, as the panel's forms do.
public struct InboxLiveController: Sendable {
    let tenants: TenantDatabase
    let database: Database
    let feed: ConversationFeed
    let presence: PresenceStore
    let sessions: SessionStore
    let panels: PanelRenderer
    let keepAlive: Duration

    public init(
        tenants: TenantDatabase, database: Database, feed: ConversationFeed, presence: PresenceStore, sessions: SessionStore,
        panels: PanelRenderer, keepAlive: Duration = .seconds(15)
    ) {
        self.tenants = tenants
        self.database = database
        self.feed = feed
        self.presence = presence
        self.sessions = sessions
        self.panels = panels
        self.keepAlive = keepAlive
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.inboxEvents, use: events)
        routes.post(.inboxTyping(), use: typing)
        routes.post(.inboxPresence, use: report)
    }

    /// The shop's conversation events for a signed-in member: `message`, `state`, `typing` (the shopper's), `resync`
    /// (read again: the process stopped listening for a moment), a comment every 15 s.
    @Sendable func events(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try InboxPanel.tenant(context)
        let events = feed.subscribe(schema: tenant.schema.value, conversation: nil)
        let logger = context.logger
        // The page reconnects by itself; say why this stream ended, for whoever reads the log.
        return eventStreamResponse(logger: logger, ended: "An inbox event stream ended", level: .notice) { [tenants, keepAlive] writer in
            try await InboxEventStream(tenants: tenants, tenant: tenant).run(events: events, keepAlive: keepAlive, writer: &writer)
        }
    }

    /// Tells the shopper (and colleagues) that the operator is typing; inbox.js sends it at most every 3 s.
    @Sendable func typing(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try InboxPanel.tenant(context)
        let id = try InboxPanel.id(context)
        let channel = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            try await connection.value(String.self, "SELECT channel FROM conversations WHERE id = \(id)")
        }
        guard let channel, channel != ConversationChannel.test.rawValue else { throw HTTPError(.notFound) }
        try await feed.typing(tenant, conversation: id, author: .operator, name: context.panel.user.user.displayName, database: database)
        return Response(status: .noContent)
    }

    /// Records the operator's presence (`status`: online or away). From inbox.js (`js` set): 204; from the toggle's
    /// form: a flash and back to the inbox page it was sent from.
    @Sendable func report(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try InboxPanel.tenant(context)
        guard let status = PresenceStore.Status(rawValue: context.form.text("status")) else { throw HTTPError(.badRequest) }
        try await presence.report(status, user: context.panel.user.user.id, tenant: tenant.id)
        if context.form["js"] != nil { return Response(status: .noContent) }
        let t = panels.texts(context)
        let message = t[status == .away ? "inbox_presence_away_done" : "inbox_presence_online_done"] ?? ""
        try await sessions.setFlash(Flash(.success, message), sessionID: context.panel.user.sessionID)
        let back = context.form.text("back")
        return .redirect(to: back.hasPrefix(PanelURL.inbox.path) && !back.contains("//") ? back : PanelURL.inbox.path, type: .normal)
    }
}

/// One inbox page's stream: the feed's events for the shop's inbox conversations (test chats left out), each as a
/// small JSON event; the page reads what changed from its own address.
struct InboxEventStream: Sendable {
    let tenants: TenantDatabase
    let tenant: TenantRecord

    struct Change: Encodable {
        var conversation: Int
        var id: Int?
        var state: String?
        var author: String?
        var name: String?
        var url: String
    }

    func run(events: AsyncStream<ConversationFeed.Event>, keepAlive: Duration, writer: inout any ResponseBodyWriter) async throws {
        try await writer.write(ByteBuffer(string: "retry: 5000\nevent: ready\ndata: {}\n\n"))
        // Whether a conversation is the inbox's (not a test chat): a conversation's channel never changes.
        var inInbox: [Int: Bool] = [:]
        try await events.withKeepAlive(every: keepAlive, buffer: 64) { wakes in
            for await wake in wakes.cancelOnGracefulShutdown() {
                guard case .event(let event) = wake else {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    continue
                }
                guard let conversation = event.conversation else {
                    try await writer.write(Self.event("resync", Change(conversation: 0, url: PanelURL.inbox.path)))
                    continue
                }
                if inInbox.count > 5_000 { inInbox.removeAll() }
                let known: Bool
                if let cached = inInbox[conversation] {
                    known = cached
                } else {
                    known = try await isInInbox(conversation)
                    inInbox[conversation] = known
                }
                guard known else { continue }
                var change = Change(conversation: conversation, url: PanelURL.inboxConversation(conversation).path)
                switch event {
                case .message(_, let id):
                    change.id = id
                    try await writer.write(Self.event("message", change))
                case .state(_, let state):
                    change.state = state.rawValue
                    // A conversation that starts waiting may make a desktop notification: it says who waits.
                    if state == .waiting { change.name = try await contactName(conversation) }
                    try await writer.write(Self.event("state", change))
                case .typing(_, let author, let name):
                    guard author == .shopper else { continue }
                    change.author = author.rawValue
                    change.name = name
                    try await writer.write(Self.event("typing", change))
                // An answer being written shows in the inbox once it is stored.
                case .resync, .draft: continue
                }
            }
        }
    }

    func isInInbox(_ id: Int) async throws -> Bool {
        let channel = try await tenants.withTenant(tenant, readOnly: true, admitting: .activeOrSuspended) { connection in
            try await connection.value(String.self, "SELECT channel FROM conversations WHERE id = \(id)")
        }
        return channel != nil && channel != ConversationChannel.test.rawValue
    }

    func contactName(_ id: Int) async throws -> String? {
        try await tenants.withTenant(tenant, readOnly: true, admitting: .activeOrSuspended) { connection in
            try await connection.value(
                String.self,
                """
                SELECT coalesce(nullif(co.name, ''), nullif(co.email, '')) FROM conversations c JOIN contacts co ON co.id = c.contact_id
                WHERE c.id = \(id)
                """)
        }
    }

    static func event(_ name: String, _ change: Change) -> ByteBuffer {
        var buffer = ByteBuffer(string: "event: \(name)\ndata: ")
        var json = APIJSON.encode(change)
        buffer.writeBuffer(&json)
        buffer.writeString("\n\n")
        return buffer
    }
}

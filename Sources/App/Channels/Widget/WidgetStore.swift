import Foundation
import PostgresNIO
import Synchronization

/// A message as the widget shows it: internal notes never leave the inbox, and an operator is named.
public struct WidgetMessage: Sendable, Codable, Equatable, RowDecodable {
    public var id: Int
    public var author: MessageAuthor
    /// The operator's name (operators), the bot's (set by the caller), nil for the shopper.
    public var authorName: String?
    public var text: String
    public var parts: [MessagePart]
    public var createdAt: Date
    /// The widget's own id of a shopper's message (its retries are one message).
    public var clientID: String?

    enum CodingKeys: String, CodingKey {
        case id, author, text, parts
        case authorName = "author_name"
        case createdAt = "created_at"
        case clientID = "client_id"
    }

    static let columns = """
        m.id::int, m.author, m.text, m.parts::text, m.created_at, m.channel_message_id, nullif(u.name, '')
        """

    public init(row: PostgresRow) throws {
        try self.init(fields: row.decode((Int, String, String, String, Date, String?, String?).self))
    }

    init(prepared row: PreparedRow) throws {
        try self.init(fields: row.decode((Int, String, String, String, Date, String?, String?).self))
    }

    init(fields: (Int, String, String, String, Date, String?, String?)) {
        let (id, author, text, parts, created, channelID, name) = fields
        self.id = id
        self.author = MessageAuthor(rawValue: author) ?? .system
        self.text = text
        self.parts = (try? JSONDecoder().decode([MessagePart].self, from: Data(parts.utf8))) ?? []
        createdAt = created
        // Stored as "<contact>:<client id>" (unique per channel across visitors).
        clientID = channelID.flatMap { $0.split(separator: ":", maxSplits: 1).last.map(String.init) }
        authorName = name
    }
}

/// A conversation as the widget shows it.
public struct WidgetConversation: Sendable, Codable, Equatable {
    public struct Operator: Sendable, Codable, Equatable {
        public var name: String
    }
    public struct Rating: Sendable, Codable, Equatable {
        public var rating: Int
    }

    public var id: Int
    public var state: ConversationState
    public var `operator`: Operator?
    public var csat: Rating?
    public var expectedWaitMinutes: Int?

    enum CodingKeys: String, CodingKey {
        case id, state, `operator`, csat
        case expectedWaitMinutes = "expected_wait_minutes"
    }
}

/// What the widget reads: the visitor's conversation with a bot, its messages, the shop's expected wait. Always inside
/// the tenant's transaction.
public struct WidgetStore: Sendable {
    public init() {}

    /// The visitor's latest widget conversation with the bot.
    public func latest(contactID: Int, botID: Int, on tenant: TenantConnection) async throws -> Int? {
        try await tenant.value(
            Int.self,
            """
            SELECT id::int FROM conversations WHERE contact_id = \(contactID) AND bot_id = \(botID) AND channel = 'widget'
            ORDER BY id DESC LIMIT 1
            """)
    }

    /// A conversation of the contact's (nil when it is someone else's).
    public func conversation(_ id: Int, contactID: Int, on tenant: TenantConnection) async throws -> WidgetConversation? {
        guard
            let row = try await tenant.value(
                (Int, String, String?, Int?, Date?).self,
                """
                SELECT c.id::int, c.state, CASE WHEN c.state = 'assigned' THEN coalesce(nullif(u.name, ''), '') END, c.csat_rating::int,
                    c.waiting_since
                FROM conversations c LEFT JOIN platform.users u ON u.id = c.assignee_id
                WHERE c.id = \(id) AND c.contact_id = \(contactID) AND c.channel = 'widget'
                """)
        else { return nil }
        let state = ConversationState(rawValue: row.1) ?? .bot
        var conversation = WidgetConversation(
            id: row.0, state: state, operator: row.2.map { WidgetConversation.Operator(name: $0) }, csat: row.3.map { .init(rating: $0) })
        if state == .waiting { conversation.expectedWaitMinutes = try await expectedWait(on: tenant) }
        return conversation
    }

    /// The conversation's messages after `after` (the last one the widget has), oldest first, at most `limit` (the
    /// latest ones when there are more).
    public func messages(
        _ conversationID: Int, after: Int = 0, limit: Int = 100, on tenant: TenantConnection
    ) async throws
        -> [WidgetMessage]
    {
        try await tenant.all(
            WidgetMessage.self,
            """
            SELECT * FROM (SELECT \(unescaped: WidgetMessage.columns) FROM messages m LEFT JOIN platform.users u ON u.id = m.author_user_id
                WHERE m.conversation_id = \(conversationID) AND NOT m.internal AND m.id > \(after)
                ORDER BY m.id DESC LIMIT \(limit)) x ORDER BY 1
            """)
    }

    /// The conversation's messages after `after`: one prepared statement, one round trip (a live stream's read).
    static func newMessages(_ conversationID: Int, after: Int) -> TenantStatement<WidgetMessage> {
        TenantStatement(
            name: "widget.messages",
            sql: """
                SELECT \(WidgetMessage.columns) FROM {schema}.messages m LEFT JOIN platform.users u ON u.id = m.author_user_id
                WHERE m.conversation_id = $1 AND NOT m.internal AND m.id > $2 ORDER BY m.id LIMIT 500
                """,
            binds: [PostgresData(int: conversationID), PostgresData(int: after)]
        ) { try WidgetMessage(prepared: $0) }
    }

    /// One message of the conversation (not a note).
    public func message(_ id: Int, in conversationID: Int, on tenant: TenantConnection) async throws -> WidgetMessage? {
        try await tenant.first(
            WidgetMessage.self,
            """
            SELECT \(unescaped: WidgetMessage.columns) FROM messages m LEFT JOIN platform.users u ON u.id = m.author_user_id
            WHERE m.id = \(id) AND m.conversation_id = \(conversationID) AND NOT m.internal
            """)
    }

    /// Minutes a shopper waits for a person these days: the median wait of the last 50 conversations taken, rounded up;
    /// the shop's target when there is no history.
    public func expectedWait(on tenant: TenantConnection) async throws -> Int {
        let seconds = try await tenant.value(
            Double.self,
            """
            WITH taken AS (
                SELECT e.created_at - (SELECT max(w.created_at) FROM conversation_events w
                    WHERE w.conversation_id = e.conversation_id AND w.to_state = 'waiting' AND w.id < e.id) AS waited
                FROM conversation_events e WHERE e.reason = 'taken' AND e.from_state = 'waiting'
                ORDER BY e.id DESC LIMIT 50)
            SELECT coalesce(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY waited)),
                (SELECT target_wait_seconds FROM inbox_settings))::float8
            FROM taken WHERE waited IS NOT NULL
            """)
        return max(1, Int(((seconds ?? 300) / 60).rounded(.up)))
    }
}

/// Reads of new messages shared by the streams of one conversation in this process: two tabs (or a shopper's phone
/// and laptop) woken by the same notification make one database read, not two.
final class SharedMessageReads: Sendable {
    private let inFlight = Mutex<[String: (id: UUID, task: Task<[WidgetMessage], any Error>)]>([:])
    let tenants: TenantDatabase

    init(tenants: TenantDatabase) {
        self.tenants = tenants
    }

    func messages(_ tenant: TenantRecord, conversation: Int, after: Int) async throws -> [WidgetMessage] {
        let key = "\(tenant.schema.value)/\(conversation)/\(after)"
        let id = UUID()
        let task = inFlight.withLock { reads in
            if let running = reads[key] { return running.task }
            let task = Task { [tenants] in
                try await tenants.read(tenant, WidgetStore.newMessages(conversation, after: after), admitting: .activeOrSuspended)
            }
            reads[key] = (id, task)
            return task
        }
        defer { inFlight.withLock { reads in if reads[key]?.id == id { reads[key] = nil } } }
        return try await task.value
    }
}

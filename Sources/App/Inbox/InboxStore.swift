import Foundation
import PostgresNIO

/// A queue of the inbox.
public enum InboxQueue: String, Sendable, CaseIterable {
    /// Waiting for a person.
    case waiting
    /// Assigned to the signed-in operator.
    case mine
    /// With the bot.
    case bot
    case resolved
    case all
}

/// Which conversations a list shows.
public struct InboxFilter: Sendable, Equatable {
    public var states: [ConversationState]
    public var assignee: UUID?
    public var channel: ConversationChannel?

    public init(states: [ConversationState] = ConversationState.allCases, assignee: UUID? = nil, channel: ConversationChannel? = nil) {
        self.states = states
        self.assignee = assignee
        self.channel = channel
    }
}

/// A conversation in an inbox list.
public struct InboxRow: Sendable, Equatable, RowDecodable {
    public var id: Int
    public var state: ConversationState
    public var channel: ConversationChannel
    public var contactName: String?
    public var contactEmail: String?
    public var assigneeID: UUID?
    public var assigneeName: String?
    public var lastText: String?
    public var lastAuthor: MessageAuthor?
    public var lastMessageAt: Date
    public var waitingSince: Date?
    public var csat: Int?
    /// `last_message_at` in microseconds since 1970, exactly: the key of the next page.
    public var sortKey: Int64

    static let columns = """
        c.id::int, c.state, c.channel, co.name, co.email, c.assignee_id, nullif(u.name, ''),
        (SELECT left(m.text, 200) FROM messages m WHERE m.conversation_id = c.id AND NOT m.internal ORDER BY m.id DESC LIMIT 1),
        (SELECT m.author FROM messages m WHERE m.conversation_id = c.id AND NOT m.internal ORDER BY m.id DESC LIMIT 1),
        c.last_message_at, c.waiting_since, c.csat_rating::int,
        ((extract(epoch FROM c.last_message_at - 'epoch'::timestamptz) * 1000000)::numeric)::int8
        """

    public init(row: PostgresRow) throws {
        let (id, state, channel, name, email, assignee, assigneeName, text, author, last, waiting, csat, key) = try row.decode(
            (Int, String, String, String?, String?, UUID?, String?, String?, String?, Date, Date?, Int?, Int64).self)
        sortKey = key
        self.id = id
        self.state = ConversationState(rawValue: state) ?? .bot
        self.channel = ConversationChannel(rawValue: channel) ?? .api
        contactName = name
        contactEmail = email
        assigneeID = assignee
        self.assigneeName = assigneeName
        lastText = text
        lastAuthor = author.flatMap(MessageAuthor.init(rawValue:))
        lastMessageAt = last
        waitingSince = waiting
        self.csat = csat
    }
}

/// A message as the inbox shows it: notes included, with its author's name and the bot's explanation.
public struct InboxMessage: Sendable, Equatable, RowDecodable {
    public var id: Int
    public var author: MessageAuthor
    public var authorID: UUID?
    public var authorName: String?
    public var text: String
    public var parts: [MessagePart]
    public var internalNote: Bool
    public var explanation: Explanation?
    public var delivery: String?
    /// Why a message did not reach the shopper (`<kind>: <provider's words>`, `DeliveryRefusal`), or why it waits.
    public var deliveryError: String?
    public var createdAt: Date

    static let columns = """
        m.id::int, m.author, m.author_user_id, nullif(u.name, ''), m.text, m.parts::text, m.internal, m.explanation::text,
        m.delivery, m.delivery_error, m.created_at
        """

    public init(row: PostgresRow) throws {
        let (id, author, authorID, name, text, parts, note, explanation, delivery, deliveryError, created) = try row.decode(
            (Int, String, UUID?, String?, String, String, Bool, String?, String?, String?, Date).self)
        self.id = id
        self.author = MessageAuthor(rawValue: author) ?? .system
        self.authorID = authorID
        authorName = name
        self.text = text
        self.parts = (try? JSONDecoder().decode([MessagePart].self, from: Data(parts.utf8))) ?? []
        internalNote = note
        self.explanation = explanation.flatMap { try? JSONDecoder().decode(Explanation.self, from: Data($0.utf8)) }
        self.delivery = delivery
        self.deliveryError = deliveryError
        createdAt = created
    }
}

/// A conversation as the inbox's conversation page shows it: the contact, the state, the assignee, the rating.
public struct InboxConversation: Sendable, Equatable, RowDecodable {
    public var id: Int
    public var state: ConversationState
    public var channel: ConversationChannel
    public var botName: String
    public var contactID: Int
    public var contactName: String?
    public var contactEmail: String?
    public var contactPhone: String?
    public var contactFields: [String: String]
    public var assigneeID: UUID?
    public var assigneeName: String?
    public var waitingSince: Date?
    public var csat: Int?
    public var csatComment: String?
    public var createdAt: Date
    public var language: BotLanguage?

    static let columns = """
        c.id::int, c.state, c.channel, b.name, co.id::int, co.name, co.email, co.phone, co.fields::text, c.assignee_id, nullif(u.name, ''),
        c.waiting_since, c.csat_rating::int, c.csat_comment, c.created_at, c.language
        """

    public init(row: PostgresRow) throws {
        let (
            id, state, channel, bot, contact, name, email, phone, fields, assignee, assigneeName, waiting, csat, comment, created, language
        ) =
            try row.decode(
                (
                    Int, String, String, String, Int, String?, String?, String?, String, UUID?, String?, Date?, Int?, String?, Date,
                    String?
                ).self)
        self.id = id
        self.state = ConversationState(rawValue: state) ?? .bot
        self.channel = ConversationChannel(rawValue: channel) ?? .api
        botName = bot
        contactID = contact
        contactName = name
        contactEmail = email
        contactPhone = phone
        contactFields = (try? JSONDecoder().decode([String: String].self, from: Data(fields.utf8))) ?? [:]
        assigneeID = assignee
        self.assigneeName = assigneeName
        waitingSince = waiting
        self.csat = csat
        csatComment = comment
        createdAt = created
        self.language = language.flatMap(BotLanguage.init(rawValue:))
    }
}

/// A move in a conversation's history, with who made it.
public struct InboxEvent: Sendable, Equatable, RowDecodable {
    public var from: ConversationState?
    public var to: ConversationState
    public var reason: String
    public var actor: MessageAuthor
    public var actorName: String?
    public var createdAt: Date

    public init(row: PostgresRow) throws {
        let (from, to, reason, actor, name, created) = try row.decode((String?, String, String, String, String?, Date).self)
        self.from = from.flatMap(ConversationState.init(rawValue:))
        self.to = ConversationState(rawValue: to) ?? .bot
        self.reason = reason
        self.actor = MessageAuthor(rawValue: actor) ?? .system
        actorName = name
        createdAt = created
    }
}

/// What the inbox reads: queues and their counts, a conversation with its messages and events, the teammates one can
/// assign to. Test conversations (the panel's "Try the bot") stay out of it. Always inside the tenant's transaction.
public struct InboxStore: Sendable {
    public init() {}

    /// How many conversations each queue holds for `user`.
    public func counts(user: UUID, on tenant: TenantConnection) async throws -> [InboxQueue: Int] {
        guard
            let row = try await tenant.value(
                (Int, Int, Int, Int, Int).self,
                """
                SELECT count(*) FILTER (WHERE state = 'waiting')::int, count(*) FILTER (WHERE state = 'assigned' AND assignee_id = \(user))::int,
                    count(*) FILTER (WHERE state = 'bot')::int, count(*) FILTER (WHERE state = 'resolved')::int, count(*)::int
                FROM conversations WHERE channel <> 'test'
                """)
        else { return [:] }
        return [.waiting: row.0, .mine: row.1, .bot: row.2, .resolved: row.3, .all: row.4]
    }

    /// A page of a queue, the latest first (the waiting queue oldest first: whoever waited longest is answered
    /// first); `before` is the last row of the previous page (its `sortKey` and `id`).
    public func list(
        _ queue: InboxQueue, user: UUID, before: (Int64, Int)? = nil, limit: Int = 50, on tenant: TenantConnection
    ) async throws -> [InboxRow] {
        let states: [ConversationState] =
            switch queue {
            case .waiting: [.waiting]
            case .mine: [.assigned]
            case .bot: [.bot]
            case .resolved: [.resolved]
            case .all: ConversationState.allCases
            }
        return try await list(
            InboxFilter(states: states, assignee: queue == .mine ? user : nil), oldestWaitingFirst: queue == .waiting, before: before,
            limit: limit, on: tenant)
    }

    /// A page of the conversations `filter` selects, the latest first (`before`: the previous page's last row).
    public func list(
        _ filter: InboxFilter, oldestWaitingFirst: Bool = false, before: (Int64, Int)? = nil, limit: Int = 50,
        on tenant: TenantConnection
    ) async throws -> [InboxRow] {
        let order = oldestWaitingFirst ? "c.waiting_since ASC NULLS LAST, c.id ASC" : "c.last_message_at DESC, c.id DESC"
        return try await tenant.all(
            InboxRow.self,
            """
            SELECT \(unescaped: InboxRow.columns) FROM conversations c JOIN contacts co ON co.id = c.contact_id
            LEFT JOIN platform.users u ON u.id = c.assignee_id
            WHERE c.channel <> 'test' AND c.state = ANY(\(filter.states.map(\.rawValue)))
                AND (\(filter.assignee)::uuid IS NULL OR c.assignee_id = \(filter.assignee))
                AND (\(filter.channel?.rawValue)::text IS NULL OR c.channel = \(filter.channel?.rawValue))
                AND (\(before == nil) OR (c.last_message_at, c.id)
                    < ('epoch'::timestamptz + \(before?.0 ?? 0) * interval '1 microsecond', \(before?.1 ?? 0)))
            ORDER BY \(unescaped: order) LIMIT \(limit)
            """)
    }

    /// A conversation of the inbox (not a test one).
    public func conversation(_ id: Int, on tenant: TenantConnection) async throws -> InboxConversation? {
        try await tenant.first(
            InboxConversation.self,
            """
            SELECT \(unescaped: InboxConversation.columns) FROM conversations c JOIN contacts co ON co.id = c.contact_id
            JOIN bots b ON b.id = c.bot_id LEFT JOIN platform.users u ON u.id = c.assignee_id
            WHERE c.id = \(id) AND c.channel <> 'test'
            """)
    }

    /// The conversation's messages and notes after `after`, oldest first (the latest `limit`).
    public func messages(_ id: Int, after: Int = 0, limit: Int = 300, on tenant: TenantConnection) async throws -> [InboxMessage] {
        try await tenant.all(
            InboxMessage.self,
            """
            SELECT * FROM (SELECT \(unescaped: InboxMessage.columns) FROM messages m LEFT JOIN platform.users u ON u.id = m.author_user_id
                WHERE m.conversation_id = \(id) AND m.id > \(after) ORDER BY m.id DESC LIMIT \(limit)) x ORDER BY 1
            """)
    }

    public func events(_ id: Int, on tenant: TenantConnection) async throws -> [InboxEvent] {
        try await tenant.all(
            InboxEvent.self,
            """
            SELECT e.from_state, e.to_state, e.reason, e.actor, nullif(u.name, ''), e.created_at
            FROM conversation_events e LEFT JOIN platform.users u ON u.id = e.actor_user_id
            WHERE e.conversation_id = \(id) ORDER BY e.id
            """)
    }

    /// The shop's people who may answer (operators and above), with whether they are online now.
    public func teammates(on tenant: TenantConnection) async throws -> [(id: UUID, name: String, online: Bool)] {
        try await tenant.values(
            (UUID, String, Bool).self,
            """
            SELECT u.id, coalesce(nullif(u.name, ''), u.email),
                EXISTS (SELECT 1 FROM platform.operator_presence p WHERE p.tenant_id = m.tenant_id AND p.user_id = u.id
                    AND p.status = 'online' AND p.seen_at > now() - interval '90 seconds')
            FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
            WHERE m.tenant_id = \(tenant.scope.id) AND m.role IN ('owner', 'admin', 'operator')
            ORDER BY 2
            """
        ).map { (id: $0.0, name: $0.1, online: $0.2) }
    }
}

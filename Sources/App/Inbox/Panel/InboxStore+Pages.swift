import Foundation
import PostgresNIO

/// A conversation in the panel's list: `InboxRow`'s facts, the contact's id (for "Visitor #12") and who wrote the
/// last message.
struct InboxListRow: Sendable, Equatable, RowDecodable {
    var id: Int
    var state: ConversationState
    var channel: ConversationChannel
    var contactID: Int
    var contactName: String?
    var contactEmail: String?
    var assigneeID: UUID?
    var assigneeName: String?
    var lastText: String?
    var lastAuthor: MessageAuthor?
    var lastAuthorID: UUID?
    var lastMessageAt: Date
    var waitingSince: Date?
    var csat: Int?

    static let columns = """
        c.id::int, c.state, c.channel, co.id::int, co.name, co.email, c.assignee_id, coalesce(nullif(u.name, ''), u.email),
        l.text, l.author, l.author_user_id, c.last_message_at, c.waiting_since, c.csat_rating::int
        """

    init(row: PostgresRow) throws {
        let (id, state, channel, contact, name, email, assignee, assigneeName, text, author, authorID, last, waiting, csat) =
            try row.decode(
                (Int, String, String, Int, String?, String?, UUID?, String?, String?, String?, UUID?, Date, Date?, Int?).self)
        self.id = id
        self.state = ConversationState(rawValue: state) ?? .bot
        self.channel = ConversationChannel(rawValue: channel) ?? .api
        contactID = contact
        contactName = name
        contactEmail = email
        assigneeID = assignee
        self.assigneeName = assigneeName
        lastText = text
        lastAuthor = author.flatMap(MessageAuthor.init(rawValue:))
        lastAuthorID = authorID
        lastMessageAt = last
        waitingSince = waiting
        self.csat = csat
    }
}

extension InboxStore {
    /// A page of a queue for the panel, in the queue's order (the waiting queue longest-waiting first, the others
    /// latest first), after the conversation `after` (the last row of the previous page). One more row than `limit`
    /// says there is a next page.
    ///
    /// The keyset is the previous page's last conversation, read again by id: `list(_:before:)` compares
    /// `last_message_at` whatever the order, which skips rows on the waiting queue's later pages.
    func page(_ queue: InboxQueue, user: UUID, after: Int?, limit: Int, on tenant: TenantConnection) async throws -> [InboxListRow] {
        let states: [String] =
            switch queue {
            case .waiting: ["waiting"]
            case .mine: ["assigned"]
            case .bot: ["bot"]
            case .resolved: ["resolved"]
            case .all: ConversationState.allCases.map(\.rawValue)
            }
        // The waiting queue: who waited longest first; the others: the latest first. The keyset reads the previous
        // page's last conversation again by its id.
        let waiting = queue == .waiting
        let key = waiting ? "coalesce(c.waiting_since, c.created_at), c.id" : "c.last_message_at, c.id"
        let keyOfLast = waiting ? "coalesce(waiting_since, created_at), id" : "last_message_at, id"
        let order = waiting ? "coalesce(c.waiting_since, c.created_at) ASC, c.id ASC" : "c.last_message_at DESC, c.id DESC"
        let compare = waiting ? ">" : "<"
        return try await tenant.all(
            InboxListRow.self,
            """
            SELECT \(unescaped: InboxListRow.columns) FROM conversations c JOIN contacts co ON co.id = c.contact_id
            LEFT JOIN platform.users u ON u.id = c.assignee_id
            LEFT JOIN LATERAL (SELECT left(m.text, 200) AS text, m.author, m.author_user_id FROM messages m
                WHERE m.conversation_id = c.id AND NOT m.internal ORDER BY m.id DESC LIMIT 1) l ON true
            WHERE c.channel <> 'test' AND c.state = ANY(\(states)) AND (NOT \(queue == .mine) OR c.assignee_id = \(user))
                AND (\(after)::bigint IS NULL
                    OR (\(unescaped: key)) \(unescaped: compare) (SELECT \(unescaped: keyOfLast) FROM conversations WHERE id = \(after)::bigint))
            ORDER BY \(unescaped: order) LIMIT \(limit)
            """)
    }

    /// How many conversations wait for a person (the navigation's badge).
    func waitingCount(on tenant: TenantConnection) async throws -> Int {
        try await tenant.value(Int.self, "SELECT count(*)::int FROM conversations WHERE state = 'waiting' AND channel <> 'test'") ?? 0
    }
}

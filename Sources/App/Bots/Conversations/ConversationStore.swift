import Foundation
import PostgresNIO

/// A conversation as the engine, the panel and the API read it.
public struct Conversation: Sendable, Equatable, RowDecodable {
    public var id: Int
    public var botID: Int
    public var contactID: Int
    public var channel: ConversationChannel
    public var state: ConversationState
    public var language: BotLanguage?
    public var fallbacksInRow: Int
    public var contactName: String?

    static let columns = """
        c.id::int, c.bot_id::int, c.contact_id::int, c.channel, c.state, c.language, c.fallbacks_in_row, co.name
        """

    public init(row: PostgresRow) throws {
        let (id, bot, contact, channel, state, language, fallbacks, name) = try row.decode(
            (Int, Int, Int, String, String, String?, Int, String?).self)
        self.id = id
        botID = bot
        contactID = contact
        self.channel = ConversationChannel(rawValue: channel) ?? .api
        self.state = ConversationState(rawValue: state) ?? .bot
        self.language = language.flatMap(BotLanguage.init(rawValue:))
        fallbacksInRow = fallbacks
        contactName = name
    }
}

/// A stored message.
public struct StoredMessage: Sendable, Equatable, RowDecodable {
    public var id: Int
    public var author: MessageAuthor
    public var text: String
    public var parts: [MessagePart]
    /// The explanation as stored (JSON), for bot messages.
    public var explanation: String?
    public var createdAt: Date

    static let columns = "id::int, author, text, parts::text, explanation::text, created_at"

    public init(row: PostgresRow) throws {
        let (id, author, text, parts, explanation, created) = try row.decode((Int, String, String, String, String?, Date).self)
        self.id = id
        self.author = MessageAuthor(rawValue: author) ?? .system
        self.text = text
        self.parts = (try? JSONDecoder().decode([MessagePart].self, from: Data(parts.utf8))) ?? []
        self.explanation = explanation
        createdAt = created
    }
}

/// Contacts, conversations, messages and their events in a tenant's schema; always inside the tenant's transaction.
public struct ConversationStore: Sendable {
    public init() {}

    /// A conversation, locked for the rest of the transaction (one message at a time per conversation).
    public func lock(_ id: Int, on tenant: TenantConnection) async throws -> Conversation? {
        try await tenant.first(
            Conversation.self,
            """
            SELECT \(unescaped: Conversation.columns) FROM conversations c JOIN contacts co ON co.id = c.contact_id
            WHERE c.id = \(id) FOR UPDATE OF c
            """)
    }

    /// The shopper behind `(channel, externalID)`, created on first sight; a message with no identity (a test) gets a
    /// new contact.
    public func contact(
        channel: ConversationChannel, externalID: String?, name: String? = nil, on tenant: TenantConnection
    ) async throws -> Int {
        guard let externalID else {
            return try await tenant.value(Int.self, "INSERT INTO contacts (name) VALUES (\(name)) RETURNING id::int") ?? 0
        }
        // A messenger's name (Telegram's, WhatsApp's profile) names a contact nobody named yet, in the same statement.
        if let id = try await tenant.value(
            Int.self,
            """
            WITH i AS (SELECT contact_id FROM contact_identities WHERE channel = \(channel.rawValue) AND external_id = \(externalID)),
            u AS (UPDATE contacts SET name = \(name), updated_at = now()
                  WHERE \(name)::text IS NOT NULL AND id = (SELECT contact_id FROM i) AND name IS NULL)
            SELECT contact_id::int FROM i
            """)
        {
            return id
        }
        return try await tenant.value(
            Int.self,
            """
            WITH c AS (INSERT INTO contacts (name) VALUES (\(name)) RETURNING id),
            i AS (INSERT INTO contact_identities (channel, external_id, contact_id) SELECT \(channel.rawValue), \(externalID), id FROM c
                  ON CONFLICT (channel, external_id) DO NOTHING RETURNING contact_id)
            SELECT coalesce((SELECT contact_id FROM i),
                (SELECT contact_id FROM contact_identities WHERE channel = \(channel.rawValue) AND external_id = \(externalID)))::int
            """) ?? 0
    }

    /// The contact's latest conversation with the bot on the channel, or a new one; locked.
    public func open(
        botID: Int, contactID: Int, channel: ConversationChannel, reuse: Bool, on tenant: TenantConnection
    ) async throws -> Conversation {
        if reuse,
            let existing = try await tenant.first(
                Conversation.self,
                """
                SELECT \(unescaped: Conversation.columns) FROM conversations c JOIN contacts co ON co.id = c.contact_id
                WHERE c.contact_id = \(contactID) AND c.bot_id = \(botID) AND c.channel = \(channel.rawValue)
                ORDER BY c.id DESC LIMIT 1 FOR UPDATE OF c
                """)
        {
            return existing
        }
        guard
            let created = try await tenant.first(
                Conversation.self,
                """
                WITH c AS (INSERT INTO conversations (bot_id, contact_id, channel) VALUES (\(botID), \(contactID), \(channel.rawValue))
                    RETURNING *),
                e AS (INSERT INTO conversation_events (conversation_id, from_state, to_state, reason, actor)
                    SELECT id, NULL, 'bot', 'started', 'shopper' FROM c)
                SELECT \(unescaped: Conversation.columns) FROM c JOIN contacts co ON co.id = c.contact_id
                """)
        else { throw IdentityError.notFound }
        return created
    }

    /// Moves a conversation by `event`: the state machine decides, and the move and its event are written by one
    /// statement that also checks the state is still the one the caller read (else nothing is written and
    /// `ConversationMoved` says so).
    @discardableResult
    public func apply(
        _ event: ConversationEvent, to conversation: Conversation, actorUserID: UUID? = nil, on tenant: TenantConnection
    ) async throws -> ConversationState {
        let next = try conversation.state.applying(event)
        var assignee: UUID? = nil
        if case .take(let user) = event { assignee = user }
        let moved = try await tenant.value(
            Int.self,
            """
            WITH c AS (UPDATE conversations SET state = \(next.rawValue), updated_at = now(),
                    assignee_id = CASE WHEN \(next.rawValue) = 'assigned' THEN \(assignee)::uuid ELSE NULL END,
                    fallbacks_in_row = CASE WHEN \(next.rawValue) = 'bot' THEN 0 ELSE fallbacks_in_row END,
                    waiting_since = CASE WHEN \(next.rawValue) IN ('waiting', 'assigned') THEN coalesce(waiting_since, now()) END
                WHERE id = \(conversation.id) AND state = \(conversation.state.rawValue) RETURNING id),
            e AS (INSERT INTO conversation_events (conversation_id, from_state, to_state, reason, actor, actor_user_id)
                SELECT id, \(conversation.state.rawValue), \(next.rawValue), \(event.reason), \(event.actor.rawValue), \(actorUserID ?? assignee)::uuid
                FROM c RETURNING id)
            SELECT count(*)::int FROM e
            """)
        guard moved == 1 else { throw ConversationMoved(id: conversation.id) }
        return next
    }

    /// The conversation's messages, oldest first (at most `limit`, the latest ones).
    public func messages(_ conversationID: Int, limit: Int = 200, on tenant: TenantConnection) async throws -> [StoredMessage] {
        try await tenant.all(
            StoredMessage.self,
            """
            SELECT * FROM (SELECT \(unescaped: StoredMessage.columns) FROM messages WHERE conversation_id = \(conversationID)
                ORDER BY id DESC LIMIT \(limit)) m ORDER BY id
            """)
    }

    /// The conversation's events, oldest first.
    public func events(_ conversationID: Int, on tenant: TenantConnection) async throws -> [(from: String?, to: String, reason: String)] {
        try await tenant.values(
            (String?, String, String).self,
            "SELECT from_state, to_state, reason FROM conversation_events WHERE conversation_id = \(conversationID) ORDER BY id"
        ).map { (from: $0.0, to: $0.1, reason: $0.2) }
    }
}

/// Someone else moved the conversation between reading it and moving it.
public struct ConversationMoved: Error, Sendable, CustomStringConvertible {
    public let id: Int
    public var description: String { "Conversation \(id) changed meanwhile; read it again." }
}

import Foundation
import PostgresNIO

/// What an operator does to a conversation: reply, leave a note, take it or hand it to a teammate, put it back in the
/// queue, resolve it, give it back to the bot. Each is one transaction that locks the conversation, so an answer the
/// bot has in flight either committed before (and is shown) or finds the conversation taken and stays unsent.
public struct InboxActions: Sendable {
    let tenants: TenantDatabase

    public init(tenants: TenantDatabase) {
        self.tenants = tenants
    }

    /// The longest reply or note.
    public static let maximumLength = 10_000

    public enum Action: Sendable, Equatable {
        case reply(String)
        case note(String)
        /// Assign to an operator (the acting one, or a teammate).
        case assign(UUID)
        case release, resolve, handBack
        /// WhatsApp outside the 24-hour window: send the connection's approved template with this name.
        case template(String)
    }

    /// Does `action` as `user` on conversation `id`; returns the conversation's state after it. Replying to a
    /// conversation nobody holds takes it first (the bot goes quiet); replying to a resolved one reopens it.
    @discardableResult
    public func perform(_ action: Action, conversation id: Int, user: UUID, in tenant: TenantRecord) async throws -> ConversationState {
        try await tenants.withTenant(tenant) { connection in
            try await perform(action, conversation: id, user: user, in: tenant, on: connection)
        }
    }

    /// The same, in a transaction the caller holds (the API checks the operator and reads the result in it too).
    @discardableResult
    public func perform(
        _ action: Action, conversation id: Int, user: UUID, in tenant: TenantRecord, on connection: TenantConnection
    ) async throws -> ConversationState {
        do {
            let conversations = ConversationStore()
            guard var conversation = try await conversations.lock(id, on: connection), conversation.channel != .test else {
                throw InboxError.notFound
            }
            switch action {
            case .reply(let text):
                let text = try Self.checked(text)
                if conversation.channel == .whatsapp, try await ChannelWindow.isClosed(conversation: id, on: connection) {
                    throw InboxError.windowClosed
                }
                if conversation.state != .assigned {
                    conversation.state = try await conversations.apply(.take(operator: user), to: conversation, on: connection)
                }
                try await connection.execute(
                    """
                    WITH m AS (INSERT INTO messages (conversation_id, channel, author, author_user_id, text, delivery)
                        VALUES (\(id), \(conversation.channel.rawValue), 'operator', \(user), \(text), \(conversation.channel.firstDelivery)))
                    UPDATE conversations SET last_message_at = now(), updated_at = now() WHERE id = \(id)
                    """)
            case .template(let name):
                guard conversation.channel == .whatsapp,
                    let template = try await ChannelWindow.templates(conversation: id, on: connection).first(where: { $0.name == name })
                else {
                    throw InboxError.noTemplate
                }
                if conversation.state != .assigned {
                    conversation.state = try await conversations.apply(.take(operator: user), to: conversation, on: connection)
                }
                let parts = BotJSON.encode([MessagePart(type: .template, title: template.name, template: template)])
                try await connection.execute(
                    """
                    WITH m AS (INSERT INTO messages (conversation_id, channel, author, author_user_id, text, parts, delivery)
                        VALUES (\(id), 'whatsapp', 'operator', \(user), \(template.text), \(parts)::jsonb, 'queued'))
                    UPDATE conversations SET last_message_at = now(), updated_at = now() WHERE id = \(id)
                    """)
            case .note(let text):
                let text = try Self.checked(text)
                try await connection.execute(
                    """
                    INSERT INTO messages (conversation_id, channel, author, author_user_id, text, internal)
                    VALUES (\(id), \(conversation.channel.rawValue), 'operator', \(user), \(text), true)
                    """)
            case .assign(let assignee):
                guard try await Self.mayAnswer(assignee, tenant: tenant, on: connection) else { throw InboxError.notATeammate }
                conversation.state = try await conversations.apply(
                    .take(operator: assignee), to: conversation, actorUserID: user, on: connection)
            case .release:
                conversation.state = try await conversations.apply(.release, to: conversation, actorUserID: user, on: connection)
            case .resolve:
                conversation.state = try await conversations.apply(.resolve, to: conversation, actorUserID: user, on: connection)
            case .handBack:
                conversation.state = try await conversations.apply(.handBack, to: conversation, actorUserID: user, on: connection)
            }
            return conversation.state
        }
    }

    static func checked(_ text: String) throws -> String {
        let clean = WidgetAccess.clean(text)
        guard !clean.isEmpty else { throw InboxError.empty }
        guard clean.count <= maximumLength else { throw InboxError.tooLong }
        return clean
    }

    /// Whether `user` answers conversations in this shop (an operator, admin or owner of it, or its agency's staff).
    static func mayAnswer(_ user: UUID, tenant: TenantRecord, on connection: TenantConnection) async throws -> Bool {
        try await connection.value(
            Bool.self,
            """
            SELECT EXISTS (SELECT 1 FROM platform.memberships m WHERE m.user_id = \(user) AND (
                (m.tenant_id = \(tenant.id) AND m.role IN ('owner', 'admin', 'operator'))
                OR (m.partner_id = \(tenant.partnerID) AND m.role IN ('partner_owner', 'partner_admin'))
                OR m.role = 'platform_admin'))
            """) ?? false
    }
}

/// Why an inbox action was refused.
public enum InboxError: Error, Sendable, Equatable {
    case notFound, empty, tooLong, notATeammate
    /// WhatsApp: more than 24 hours since the shopper wrote; only an approved template may go.
    case windowClosed
    /// The template named is not among the connection's approved ones.
    case noTemplate

    /// The interface text's key.
    public var textKey: String {
        switch self {
        case .notFound: "inbox_error_not_found"
        case .empty: "inbox_error_empty"
        case .tooLong: "inbox_error_too_long"
        case .notATeammate: "inbox_error_not_teammate"
        case .windowClosed: "inbox_error_window_closed"
        case .noTemplate: "inbox_error_no_template"
        }
    }
}

extension ConversationStore {
    /// Hands a waiting conversation to an online operator with room, when the shop asked for that: the one holding the
    /// fewest conversations, then the one who took one least recently (round robin). Returns the state after.
    func autoAssign(_ conversation: Conversation, on tenant: TenantConnection) async throws -> ConversationState {
        guard conversation.state == .waiting else { return conversation.state }
        guard
            let operatorID = try await tenant.value(
                UUID.self,
                """
                WITH s AS (SELECT operator_capacity FROM inbox_settings WHERE auto_assign),
                candidates AS (
                    SELECT p.user_id,
                        (SELECT count(*) FROM conversations c WHERE c.assignee_id = p.user_id AND c.state = 'assigned') AS holding,
                        (SELECT max(e.created_at) FROM conversation_events e WHERE e.actor_user_id = p.user_id AND e.reason = 'taken') AS last
                    FROM platform.operator_presence p JOIN platform.memberships m ON m.user_id = p.user_id AND m.tenant_id = p.tenant_id
                    WHERE p.tenant_id = \(tenant.scope.id) AND p.status = 'online' AND p.seen_at > now() - interval '90 seconds'
                        AND m.role IN ('owner', 'admin', 'operator'))
                SELECT candidates.user_id FROM candidates, s WHERE holding < s.operator_capacity
                ORDER BY holding, last NULLS FIRST, user_id LIMIT 1
                """)
        else { return conversation.state }
        var waiting = conversation
        waiting.state = .waiting
        return try await apply(.take(operator: operatorID), to: waiting, on: tenant)
    }
}

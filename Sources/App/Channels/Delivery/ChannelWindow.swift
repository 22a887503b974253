import Foundation

/// WhatsApp's customer-service window: a business may write freely for 24 hours after the shopper's last message;
/// after that only an approved template goes (Meta refuses anything else with error 131047).
public enum ChannelWindow {
    public static let length: TimeInterval = 24 * 3600

    /// Whether the conversation's window is closed (no shopper message in the last 24 hours).
    public static func isClosed(conversation: Int, on connection: TenantConnection) async throws -> Bool {
        try await connection.value(
            Bool.self,
            """
            SELECT coalesce(max(created_at), '-infinity') < now() - make_interval(secs => \(length)) FROM messages
            WHERE conversation_id = \(conversation) AND author = 'shopper'
            """) ?? true
    }

    /// The approved templates of the conversation's bot's WhatsApp connection.
    public static func templates(conversation: Int, on connection: TenantConnection) async throws -> [WhatsAppTemplate] {
        let json = try await connection.value(
            String.self,
            """
            SELECT coalesce(k.settings -> 'templates', '[]'::jsonb)::text FROM conversations c
            JOIN channel_connections k ON k.bot_id = c.bot_id AND k.kind = 'whatsapp' WHERE c.id = \(conversation)
            """)
        return json.flatMap { try? JSONDecoder().decode([WhatsAppTemplate].self, from: Data($0.utf8)) } ?? []
    }
}

import Foundation
import Logging
import PostgresNIO

/// A connection that cannot be saved as asked: a sentence for the form, the API's problem document or the CLI.
public struct ChannelConnectionError: Error, Sendable, CustomStringConvertible {
    /// The locale key of the sentence (`channels_error_<key>`).
    public let key: String
    public let description: String

    public init(_ key: String, _ description: String) {
        self.key = key
        self.description = description
    }
}

/// `channel_connections` through the tenant door: the settings in the clear, the secrets sealed with `SecretBox` as
/// one JSON object.
public struct ChannelConnectionStore: Sendable {
    let tenants: TenantDatabase
    let secrets: SecretBox

    public init(tenants: TenantDatabase, secrets: SecretBox) {
        self.tenants = tenants
        self.secrets = secrets
    }

    static let columns = """
        c.id::int, c.bot_id::int, c.kind, c.webhook_key, c.status, c.status_detail, c.settings::text, c.secrets, c.last_inbound_at,
        c.updated_at
        """
    typealias Fields = (Int, Int, String, String, String, String?, String, String?, Date?, Date)

    func connection(_ fields: Fields) throws -> ChannelConnection {
        let (id, bot, kind, key, status, detail, settings, sealed, lastInbound, updated) = fields
        let opened = try sealed.map { try JSONDecoder().decode(ChannelSecrets.self, from: Data(secrets.open($0).utf8)) }
        let (statusKey, sentence) = ChannelConnection.parseDetail(detail)
        return ChannelConnection(
            id: id, botID: bot, kind: ChannelKind(rawValue: kind) ?? .telegram, webhookKey: key,
            status: ChannelConnection.Status(rawValue: status) ?? .failed, statusDetail: sentence, statusKey: statusKey,
            settings: (try? JSONDecoder().decode(ChannelSettings.self, from: Data(settings.utf8))) ?? ChannelSettings(),
            secrets: opened ?? ChannelSecrets(), lastInboundAt: lastInbound, updatedAt: updated)
    }

    /// The connection a webhook names (its kind and key), in one prepared read: the webhooks' hot path.
    public func webhook(
        kind: ChannelKind, key: String, in tenant: TenantRecord, logger: Logger? = nil
    ) async throws -> ChannelConnection? {
        guard key.utf8.count == 32 else { return nil }
        let rows = try await tenants.read(
            tenant,
            TenantStatement(
                name: "channels.webhook",
                sql: "SELECT \(Self.columns) FROM {schema}.channel_connections c WHERE c.webhook_key = $1 AND c.kind = $2",
                binds: [PostgresData(string: key), PostgresData(string: kind.rawValue)]
            ) { try $0.decode(Fields.self) }, logger: logger)
        return try rows.first.map(connection)
    }

    /// Every connection of the shop, by bot and kind.
    public func list(in tenant: TenantRecord, logger: Logger? = nil) async throws -> [ChannelConnection] {
        let rows = try await tenants.withTenant(tenant, readOnly: true, logger: logger) { connection in
            try await connection.values(
                Fields.self, "SELECT \(unescaped: Self.columns) FROM channel_connections c ORDER BY c.bot_id, c.kind")
        }
        return try rows.map(connection)
    }

    /// The bot's connection of a kind.
    public func find(botID: Int, kind: ChannelKind, on connection: TenantConnection) async throws -> ChannelConnection? {
        try await connection.value(
            Fields.self,
            "SELECT \(unescaped: Self.columns) FROM channel_connections c WHERE c.bot_id = \(botID) AND c.kind = \(kind.rawValue)"
        ).map(self.connection)
    }

    /// The connection with this id.
    public func find(id: Int, on connection: TenantConnection) async throws -> ChannelConnection? {
        try await connection.value(Fields.self, "SELECT \(unescaped: Self.columns) FROM channel_connections c WHERE c.id = \(id)")
            .map(self.connection)
    }

    /// Creates or replaces the bot's connection of a kind: a new one gets its webhook key, a replaced one keeps it (the
    /// address pasted at the provider stays right). Returns it as stored.
    @discardableResult
    public func save(
        botID: Int, kind: ChannelKind, settings: ChannelSettings, secrets plain: ChannelSecrets, status: ChannelConnection.Status,
        detail: String? = nil, on connection: TenantConnection
    ) async throws -> ChannelConnection {
        let sealed = try secrets.seal(String(decoding: try JSONEncoder().encode(plain), as: UTF8.self))
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        let fields = try await connection.value(
            Fields.self,
            """
            INSERT INTO channel_connections AS c (bot_id, kind, webhook_key, status, status_detail, settings, secrets)
            VALUES (\(botID), \(kind.rawValue), \(ChannelConnection.newWebhookKey()), \(status.rawValue), \(detail), \(json)::jsonb, \(sealed))
            ON CONFLICT (bot_id, kind) DO UPDATE SET status = excluded.status, status_detail = excluded.status_detail,
                settings = excluded.settings, secrets = excluded.secrets, updated_at = now()
            RETURNING \(unescaped: Self.columns)
            """)
        guard let fields else { throw ChannelConnectionError("unknown", "The connection could not be saved.") }
        return try self.connection(fields)
    }

    /// Records the outcome of setting the connection up at the provider (and what the provider told about it).
    public func setStatus(
        _ id: Int, _ status: ChannelConnection.Status, detail: String?, key: String? = nil, settings: ChannelSettings? = nil,
        on connection: TenantConnection
    ) async throws {
        let detail = ChannelConnection.storedDetail(key: key, detail)
        let json = try settings.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await connection.execute(
            """
            UPDATE channel_connections SET status = \(status.rawValue), status_detail = \(detail.map { String($0.prefix(2000)) }),
                settings = coalesce(\(json)::jsonb, settings), updated_at = now()
            WHERE id = \(id)
            """)
    }

    /// Removes the bot's connection of a kind; returns what it was.
    public func delete(botID: Int, kind: ChannelKind, on connection: TenantConnection) async throws -> ChannelConnection? {
        try await connection.value(
            Fields.self,
            "DELETE FROM channel_connections c WHERE c.bot_id = \(botID) AND c.kind = \(kind.rawValue) RETURNING \(unescaped: Self.columns)"
        ).map(self.connection)
    }
}

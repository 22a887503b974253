import Foundation
import Logging
import PostgresNIO

/// Users and their memberships in the platform schema.
public struct UserStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func find(email: String) async throws -> UserRecord? {
        try await Self.find(email: email, on: client, logger: logger)
    }

    public func find(id: UUID) async throws -> UserRecord? {
        let rows = try await client.query(
            "SELECT id, email, name, language, password_hash FROM platform.users WHERE id = \(id) AND disabled_at IS NULL",
            logger: logger)
        for try await row in rows.decode((UUID, String, String, String?, String?).self) { return UserRecord(row) }
        return nil
    }

    static func find(email: String, on connection: some PostgresQueryRunner, logger: Logger) async throws -> UserRecord? {
        let rows = try await connection.runQuery(
            "SELECT id, email, name, language, password_hash FROM platform.users WHERE email = \(email) AND disabled_at IS NULL",
            logger: logger)
        for try await row in rows.decode((UUID, String, String, String?, String?).self) { return UserRecord(row) }
        return nil
    }

    /// The user with this address, created (without a password) when there is none.
    static func findOrCreate(
        email: String, name: String = "", on connection: PostgresConnection, logger: Logger
    ) async throws
        -> UserRecord
    {
        let rows = try await connection.query(
            """
            INSERT INTO platform.users (id, email, name) VALUES (\(UUID()), \(email), \(name))
            ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
            RETURNING id, email, name, language, password_hash
            """, logger: logger)
        for try await row in rows.decode((UUID, String, String, String?, String?).self) { return UserRecord(row) }
        throw IdentityError.notFound
    }

    public func setPassword(userID: UUID, hash: String) async throws {
        try await client.query(
            "UPDATE platform.users SET password_hash = \(hash), password_changed_at = now(), updated_at = now() WHERE id = \(userID)",
            logger: logger)
    }

    static func setPassword(userID: UUID, hash: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "UPDATE platform.users SET password_hash = \(hash), password_changed_at = now(), updated_at = now() WHERE id = \(userID)",
            logger: logger)
    }

    public func updateProfile(userID: UUID, name: String, language: String?) async throws {
        try await client.query(
            "UPDATE platform.users SET name = \(name), language = \(language), updated_at = now() WHERE id = \(userID)", logger: logger)
    }

    /// Gives a user a role on a tenant, a partner or (both `nil`) the platform, replacing the role held there.
    static func grant(
        _ role: Role, userID: UUID, tenantID: UUID?, partnerID: UUID?, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO platform.memberships (user_id, partner_id, tenant_id, role) VALUES (\(userID), \(partnerID), \(tenantID), \(role.rawValue))
            ON CONFLICT (user_id, coalesce(partner_id, tenant_id, '00000000-0000-0000-0000-000000000000'::uuid))
            DO UPDATE SET role = EXCLUDED.role
            """, logger: logger)
    }

    /// A tenant's team: its members with their roles, owners first.
    public func team(tenantID: UUID) async throws -> [TeamMember] {
        let rows = try await client.query(
            """
            SELECT u.id, u.email, u.name, m.role, m.created_at, u.password_hash IS NOT NULL
            FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
            WHERE m.tenant_id = \(tenantID) AND u.disabled_at IS NULL
            ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'operator' THEN 2 ELSE 3 END, u.email
            """, logger: logger)
        var members: [TeamMember] = []
        for try await (id, email, name, role, since, active) in rows.decode((UUID, String, String, String, Date, Bool).self) {
            members.append(
                TeamMember(userID: id, email: email, name: name, role: Role(rawValue: role) ?? .viewer, since: since, active: active))
        }
        return members
    }

    /// Changes a member's role on a tenant; refuses to leave the tenant without an owner.
    public func changeRole(
        userID: UUID, tenantID: UUID, to role: Role, mayTouchOwners: Bool = true, database: Database
    ) async throws
        -> Role
    {
        try await database.client.platformTransaction(logger: logger) { connection in
            let current = try await Self.lockTeam(tenantID: tenantID, userID: userID, on: connection, logger: logger)
            // Checked again under the lock: the role may have changed since the page was shown.
            if current.role == .owner, !mayTouchOwners { throw IdentityError.notAllowed }
            if current.role == .owner, role != .owner, current.owners <= 1 { throw IdentityError.lastOwner }
            try await connection.query(
                "UPDATE platform.memberships SET role = \(role.rawValue) WHERE user_id = \(userID) AND tenant_id = \(tenantID)",
                logger: logger)
            return current.role
        }
    }

    /// Removes a member from a tenant (and ends their sessions there); refuses to remove the last owner.
    public func removeMember(userID: UUID, tenantID: UUID, mayTouchOwners: Bool = true, database: Database) async throws -> Role {
        try await database.client.platformTransaction(logger: logger) { connection in
            let current = try await Self.lockTeam(tenantID: tenantID, userID: userID, on: connection, logger: logger)
            if current.role == .owner, !mayTouchOwners { throw IdentityError.notAllowed }
            if current.role == .owner, current.owners <= 1 { throw IdentityError.lastOwner }
            try await connection.query(
                "DELETE FROM platform.memberships WHERE user_id = \(userID) AND tenant_id = \(tenantID)", logger: logger)
            // Invitations they sent that nobody has accepted go with them.
            try await connection.query(
                """
                UPDATE platform.one_time_tokens SET revoked_at = now()
                WHERE created_by = \(userID) AND tenant_id = \(tenantID) AND purpose = 'invite' AND used_at IS NULL AND revoked_at IS NULL
                """, logger: logger)
            // So do the API keys they created for this shop: a removed admin keeps no access through the API.
            try await connection.query(
                """
                UPDATE platform.api_keys SET revoked_at = now()
                WHERE created_by = \(userID) AND tenant_id = \(tenantID) AND revoked_at IS NULL
                """, logger: logger)
            return current.role
        }
    }

    /// Locks the tenant's memberships (so two removals cannot both pass the last-owner check) and reads one member.
    private static func lockTeam(
        tenantID: UUID, userID: UUID, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> (role: Role, owners: Int)
    {
        let rows = try await connection.query(
            """
            SELECT m.user_id, m.role, u.disabled_at IS NULL FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
            WHERE m.tenant_id = \(tenantID) FOR UPDATE OF m
            """, logger: logger)
        var role: Role?
        var owners = 0
        // A disabled account cannot act as an owner, so it does not count as one.
        for try await (id, text, active) in rows.decode((UUID, String, Bool).self) {
            if text == Role.owner.rawValue, active { owners += 1 }
            if id == userID { role = Role(rawValue: text) }
        }
        guard let role else { throw IdentityError.notFound }
        return (role, owners)
    }

    /// Every user, or a tenant's, with their memberships, for `vitrina users list`.
    public func list(tenantID: UUID?) async throws -> [UserListing] {
        let rows = try await client.query(
            """
            SELECT u.email, u.name, u.password_hash IS NOT NULL,
                coalesce(array_agg(m.role || coalesce('@' || t.slug, '@' || p.slug, '') ORDER BY m.role)
                    FILTER (WHERE m.role IS NOT NULL), '{}')
            FROM platform.users u
            LEFT JOIN platform.memberships m ON m.user_id = u.id
            LEFT JOIN platform.tenants t ON t.id = m.tenant_id
            LEFT JOIN platform.partners p ON p.id = m.partner_id
            WHERE \(tenantID) IS NULL OR u.id IN (SELECT user_id FROM platform.memberships WHERE tenant_id = \(tenantID))
            GROUP BY u.id ORDER BY u.email
            """, logger: logger)
        var users: [UserListing] = []
        for try await (email, name, hasPassword, roles) in rows.decode((String, String, Bool, [String]).self) {
            users.append(UserListing(email: email, name: name, hasPassword: hasPassword, memberships: roles))
        }
        return users
    }
}

/// A member of a tenant's team.
public struct TeamMember: Sendable {
    public var userID: UUID
    public var email: String
    public var name: String
    public var role: Role
    public var since: Date
    /// Whether they have set a password (an invited user who never accepted has not).
    public var active: Bool
}

/// A line of `vitrina users list`.
public struct UserListing: Sendable {
    public var email: String
    public var name: String
    public var hasPassword: Bool
    public var memberships: [String]
}

extension UserRecord {
    init(_ row: (UUID, String, String, String?, String?)) {
        self.init(id: row.0, email: row.1, name: row.2, language: row.3, passwordHash: row.4)
    }
}

/// Errors from identity operations that a user can cause.
public enum IdentityError: Error, Equatable {
    case notFound
    case lastOwner
    case notAllowed
}

/// Something that runs a query: a pooled client or one connection (inside a transaction).
public protocol PostgresQueryRunner: Sendable {
    func runQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence
}

extension PostgresClient: PostgresQueryRunner {
    public func runQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger)
    }
}

extension PostgresConnection: PostgresQueryRunner {
    public func runQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger)
    }
}

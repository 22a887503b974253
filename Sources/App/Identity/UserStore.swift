import Foundation
import PostgresNIO

/// Users and their memberships in the platform schema. Methods that take a runner join the caller's transaction.
public struct UserStore: Sendable {
    let database: Database
    let auditLog: AuditLog

    public init(database: Database, auditLog: AuditLog) {
        self.database = database
        self.auditLog = auditLog
    }

    public func find(email: String, on runner: (any QueryRunner)? = nil) async throws -> UserRecord? {
        try await (runner ?? database).first(
            UserRecord.self,
            "SELECT \(unescaped: UserRecord.columns) FROM platform.users WHERE email = \(email) AND disabled_at IS NULL")
    }

    public func find(id: UUID) async throws -> UserRecord? {
        try await database.first(
            UserRecord.self, "SELECT \(unescaped: UserRecord.columns) FROM platform.users WHERE id = \(id) AND disabled_at IS NULL")
    }

    /// The user with this address, created (without a password) when there is none.
    func findOrCreate(email: String, name: String = "", on runner: any QueryRunner) async throws -> UserRecord {
        guard
            let user = try await runner.first(
                UserRecord.self,
                """
                INSERT INTO platform.users (id, email, name) VALUES (\(UUID()), \(email), \(name))
                ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
                RETURNING \(unescaped: UserRecord.columns)
                """)
        else { throw IdentityError.notFound }
        return user
    }

    public func setPassword(userID: UUID, hash: String, on runner: (any QueryRunner)? = nil) async throws {
        try await (runner ?? database).execute(
            "UPDATE platform.users SET password_hash = \(hash), password_changed_at = now(), updated_at = now() WHERE id = \(userID)")
    }

    public func setName(userID: UUID, name: String, on runner: (any QueryRunner)? = nil) async throws {
        try await (runner ?? database).execute("UPDATE platform.users SET name = \(name), updated_at = now() WHERE id = \(userID)")
    }

    public func updateProfile(userID: UUID, name: String, language: String?) async throws {
        try await database.execute(
            "UPDATE platform.users SET name = \(name), language = \(language), updated_at = now() WHERE id = \(userID)")
    }

    /// The roles a user holds that can apply to a site.
    public func roles(userID: UUID, site: Site) async throws -> [Role] {
        let scope = site.membershipScope
        return try await database.values(
            String.self,
            """
            SELECT role FROM platform.memberships WHERE user_id = \(userID)
                AND (tenant_id = \(scope.tenant) OR partner_id = \(scope.partner) OR (tenant_id IS NULL AND partner_id IS NULL))
            """
        ).compactMap(Role.init(rawValue:))
    }

    /// Gives a user a role on a tenant, a partner or (both `nil`) the platform, replacing the role held there.
    func grant(_ role: Role, userID: UUID, tenantID: UUID?, partnerID: UUID?, on runner: any QueryRunner) async throws {
        try await runner.execute(
            """
            INSERT INTO platform.memberships (user_id, partner_id, tenant_id, role) VALUES (\(userID), \(partnerID), \(tenantID), \(role.rawValue))
            ON CONFLICT (user_id, coalesce(partner_id, tenant_id, '00000000-0000-0000-0000-000000000000'::uuid))
            DO UPDATE SET role = EXCLUDED.role
            """)
    }

    /// Adds a member to a tenant's team; someone already on it keeps the role they have.
    func join(userID: UUID, tenantID: UUID, role: Role, on runner: any QueryRunner) async throws {
        try await runner.execute(
            """
            INSERT INTO platform.memberships (user_id, tenant_id, role) VALUES (\(userID), \(tenantID), \(role.rawValue))
            ON CONFLICT DO NOTHING
            """)
    }

    /// A tenant's team: its members with their roles, owners first.
    public func team(tenantID: UUID) async throws -> [TeamMember] {
        try await database.all(
            TeamMember.self,
            """
            SELECT u.id, u.email, u.name, m.role, m.created_at, u.password_hash IS NOT NULL
            FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
            WHERE m.tenant_id = \(tenantID) AND u.disabled_at IS NULL
            ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'operator' THEN 2 ELSE 3 END, u.email
            """)
    }

    /// How many people a tenant's team has.
    public func memberCount(tenantID: UUID) async throws -> Int {
        try await database.value(Int.self, "SELECT count(*)::int FROM platform.memberships WHERE tenant_id = \(tenantID)") ?? 0
    }

    /// Changes a member's role on a tenant; refuses to leave the tenant without an owner.
    public func changeRole(
        userID: UUID, tenantID: UUID, to role: Role, mayTouchOwners: Bool = true, audit: AuditEntry? = nil
    ) async throws -> Role {
        try await database.transaction { transaction in
            let current = try await Self.lockTeam(tenantID: tenantID, userID: userID, on: transaction)
            // Checked again under the lock: the role may have changed since the page was shown.
            if current.role == .owner, !mayTouchOwners { throw IdentityError.notAllowed }
            if current.role == .owner, role != .owner, current.owners <= 1 { throw IdentityError.lastOwner }
            try await transaction.execute(
                "UPDATE platform.memberships SET role = \(role.rawValue) WHERE user_id = \(userID) AND tenant_id = \(tenantID)")
            if var entry = audit {
                entry.details = ["from": current.role.rawValue, "to": role.rawValue]
                try await auditLog.record(entry, on: transaction)
            }
            return current.role
        }
    }

    /// Removes a member from a tenant (and ends their sessions there); refuses to remove the last owner.
    public func removeMember(userID: UUID, tenantID: UUID, mayTouchOwners: Bool = true, audit: AuditEntry? = nil) async throws -> Role {
        try await database.transaction { transaction in
            let current = try await Self.lockTeam(tenantID: tenantID, userID: userID, on: transaction)
            if current.role == .owner, !mayTouchOwners { throw IdentityError.notAllowed }
            if current.role == .owner, current.owners <= 1 { throw IdentityError.lastOwner }
            try await transaction.execute("DELETE FROM platform.memberships WHERE user_id = \(userID) AND tenant_id = \(tenantID)")
            // Invitations they sent that nobody has accepted go with them.
            try await transaction.execute(
                """
                UPDATE platform.one_time_tokens SET revoked_at = now()
                WHERE created_by = \(userID) AND tenant_id = \(tenantID) AND purpose = 'invite' AND used_at IS NULL AND revoked_at IS NULL
                """)
            // So do the API keys they created for this shop: a removed admin keeps no access through the API.
            try await transaction.execute(
                """
                UPDATE platform.api_keys SET revoked_at = now()
                WHERE created_by = \(userID) AND tenant_id = \(tenantID) AND revoked_at IS NULL
                """)
            if var entry = audit {
                entry.details = ["role": current.role.rawValue]
                try await auditLog.record(entry, on: transaction)
            }
            return current.role
        }
    }

    /// Locks the tenant's memberships (so two removals cannot both pass the last-owner check) and reads one member.
    private static func lockTeam(tenantID: UUID, userID: UUID, on transaction: Transaction) async throws -> (role: Role, owners: Int) {
        let members = try await transaction.values(
            (UUID, String, Bool).self,
            """
            SELECT m.user_id, m.role, u.disabled_at IS NULL FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
            WHERE m.tenant_id = \(tenantID) FOR UPDATE OF m
            """)
        // A disabled account cannot act as an owner, so it does not count as one.
        let owners = members.filter { $0.1 == Role.owner.rawValue && $0.2 }.count
        guard let role = members.first(where: { $0.0 == userID }).flatMap({ Role(rawValue: $0.1) }) else {
            throw IdentityError.notFound
        }
        return (role, owners)
    }

    /// Every user, or a tenant's, with their memberships, for `vitrina users list`.
    public func list(tenantID: UUID?) async throws -> [UserListing] {
        try await database.all(
            UserListing.self,
            """
            SELECT u.email, u.name, u.password_hash IS NOT NULL,
                coalesce(array_agg(m.role || coalesce('@' || t.slug, '@' || p.slug, '') ORDER BY m.role)
                    FILTER (WHERE m.role IS NOT NULL), '{}')
            FROM platform.users u
            LEFT JOIN platform.memberships m ON m.user_id = u.id
            LEFT JOIN platform.tenants t ON t.id = m.tenant_id
            LEFT JOIN platform.partners p ON p.id = m.partner_id
            WHERE \(tenantID)::uuid IS NULL OR u.id IN (SELECT user_id FROM platform.memberships WHERE tenant_id = \(tenantID))
            GROUP BY u.id ORDER BY u.email
            """)
    }
}

/// A member of a tenant's team.
public struct TeamMember: Sendable, RowDecodable {
    public var userID: UUID
    public var email: String
    public var name: String
    public var role: Role
    public var since: Date
    /// Whether they have set a password (an invited user who never accepted has not).
    public var active: Bool

    public init(row: PostgresRow) throws {
        let role: String
        (userID, email, name, role, since, active) = try row.decode((UUID, String, String, String, Date, Bool).self)
        self.role = Role(rawValue: role) ?? .viewer
    }
}

/// A line of `vitrina users list`.
public struct UserListing: Sendable, RowDecodable {
    public var email: String
    public var name: String
    public var hasPassword: Bool
    public var memberships: [String]

    public init(row: PostgresRow) throws {
        (email, name, hasPassword, memberships) = try row.decode((String, String, Bool, [String]).self)
    }
}

extension UserRecord: RowDecodable {
    static let columns = "id, email, name, language, password_hash"

    public init(row: PostgresRow) throws {
        let (id, email, name, language, hash) = try row.decode((UUID, String, String, String?, String?).self)
        self.init(id: id, email: email, name: name, language: language, passwordHash: hash)
    }
}

/// Errors from identity operations that a user can cause.
public enum IdentityError: Error, Equatable {
    case notFound
    case lastOwner
    case notAllowed
}

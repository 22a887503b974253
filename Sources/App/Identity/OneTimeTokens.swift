import Foundation
import Logging
import PostgresNIO

/// What a one-time token is for, and how long it lives.
public enum TokenPurpose: String, Sendable {
    case invite, reset, handoff, impersonate

    public var lifetime: Duration {
        switch self {
        case .invite: .seconds(7 * 24 * 3600)
        case .reset: .seconds(3600)
        case .handoff, .impersonate: .seconds(60)
        }
    }
}

/// A single-use token's meaning: who, where, with which role.
public struct OneTimeToken: Sendable, Equatable {
    public var purpose: TokenPurpose
    public var userID: UUID?
    public var email: String?
    public var partnerID: UUID?
    public var tenantID: UUID?
    public var role: Role?
    public var createdBy: UUID?
    /// Why (a support sign-in's reason).
    public var note: String?

    public init(
        purpose: TokenPurpose, userID: UUID? = nil, email: String? = nil, partnerID: UUID? = nil, tenantID: UUID? = nil,
        role: Role? = nil, createdBy: UUID? = nil, note: String? = nil
    ) {
        self.purpose = purpose
        self.userID = userID
        self.email = email
        self.partnerID = partnerID
        self.tenantID = tenantID
        self.role = role
        self.createdBy = createdBy
        self.note = note
    }
}

/// A pending invitation, as the team page lists it.
public struct PendingInvitation: Sendable {
    public var id: String
    public var email: String
    public var role: Role
    public var expiresAt: Date
}

/// Invitations, password resets and panel hand-offs: random tokens, stored as SHA-256 hashes, usable once, expiring.
public struct OneTimeTokens: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = "user_id, email, partner_id, tenant_id, role, created_by, note"

    /// Stores a new token and returns it (the only time it exists in clear).
    public func issue(_ token: OneTimeToken, on runner: (any QueryRunner)? = nil) async throws -> String {
        let raw = SecretToken.make()
        let seconds = Double(token.purpose.lifetime.components.seconds)
        try await (runner ?? database).execute(
            """
            INSERT INTO platform.one_time_tokens
                (token_hash, purpose, user_id, email, partner_id, tenant_id, role, created_by, note, expires_at)
            VALUES (\(Data(SecretToken.hash(raw))), \(token.purpose.rawValue), \(token.userID), \(token.email), \(token.partnerID),
                \(token.tenantID), \(token.role?.rawValue), \(token.createdBy), \(token.note), now() + make_interval(secs => \(seconds)))
            """)
        return raw
    }

    /// The token's meaning if it is valid (unused, unexpired, not revoked), without using it up.
    public func peek(_ raw: String, purpose: TokenPurpose, on runner: (any QueryRunner)? = nil) async throws -> OneTimeToken? {
        guard SecretToken.looksValid(raw) else { return nil }
        let row = try await (runner ?? database).rows(
            """
            SELECT \(unescaped: Self.columns) FROM platform.one_time_tokens
            WHERE token_hash = \(Data(SecretToken.hash(raw))) AND purpose = \(purpose.rawValue)
                AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            """
        ).first
        return try row.map { try OneTimeToken(row: $0, purpose: purpose) }
    }

    /// Uses the token up, atomically: of two concurrent uses exactly one gets the token back.
    public func consume(_ raw: String, purpose: TokenPurpose, on runner: (any QueryRunner)? = nil) async throws -> OneTimeToken? {
        guard SecretToken.looksValid(raw) else { return nil }
        let row = try await (runner ?? database).rows(
            """
            UPDATE platform.one_time_tokens SET used_at = now()
            WHERE token_hash = \(Data(SecretToken.hash(raw))) AND purpose = \(purpose.rawValue)
                AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            RETURNING \(unescaped: Self.columns)
            """
        ).first
        return try row.map { try OneTimeToken(row: $0, purpose: purpose) }
    }

    /// A tenant's invitations that can still be accepted.
    public func pendingInvitations(tenantID: UUID) async throws -> [PendingInvitation] {
        try await database.all(
            PendingInvitation.self,
            """
            SELECT encode(token_hash, 'hex'), email, role, expires_at FROM platform.one_time_tokens
            WHERE tenant_id = \(tenantID) AND purpose = 'invite' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            ORDER BY created_at DESC
            """)
    }

    /// Revokes one of a tenant's pending invitations (by the hex id the team page shows); returns its address.
    public func revokeInvitation(id: String, tenantID: UUID) async throws -> String? {
        guard id.count == 64, id.allSatisfy(\.isHexDigit) else { return nil }
        let email = try await database.value(
            String?.self,
            """
            UPDATE platform.one_time_tokens SET revoked_at = now()
            WHERE token_hash = decode(\(id), 'hex') AND tenant_id = \(tenantID) AND purpose = 'invite' AND used_at IS NULL
                AND revoked_at IS NULL
            RETURNING email
            """)
        return email.map { $0 ?? "" }
    }

    /// Revokes a user's unused password-reset links (after a password change or reset).
    public func revokeResets(userID: UUID, on runner: (any QueryRunner)? = nil) async throws {
        try await (runner ?? database).execute(
            "UPDATE platform.one_time_tokens SET revoked_at = now() WHERE user_id = \(userID) AND purpose = 'reset' AND used_at IS NULL")
    }

    /// Whether the user was sent a reset link in the last minute (one a minute is enough: more would flood a mailbox).
    public func resetRecentlySent(userID: UUID) async throws -> Bool {
        try await database.value(
            Int.self,
            """
            SELECT 1 FROM platform.one_time_tokens
            WHERE user_id = \(userID) AND purpose = 'reset' AND created_at > now() - interval '1 minute' LIMIT 1
            """) != nil
    }

    /// How many invitations of a tenant can still be accepted.
    public func pendingInvitationCount(tenantID: UUID) async throws -> Int {
        try await database.value(
            Int.self,
            """
            SELECT count(*)::int FROM platform.one_time_tokens WHERE tenant_id = \(tenantID) AND purpose = 'invite'
                AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            """) ?? 0
    }

    /// Forgets tokens a week past their end (run periodically).
    public func purgeExpired() async throws {
        try await database.execute("DELETE FROM platform.one_time_tokens WHERE expires_at < now() - interval '7 days'")
    }
}

extension OneTimeToken {
    init(row: PostgresRow, purpose: TokenPurpose) throws {
        let (userID, email, partnerID, tenantID, role, createdBy, note) = try row.decode(
            (UUID?, String?, UUID?, UUID?, String?, UUID?, String?).self)
        self.init(
            purpose: purpose, userID: userID, email: email, partnerID: partnerID, tenantID: tenantID, role: role.flatMap(Role.init),
            createdBy: createdBy, note: note)
    }
}

extension PendingInvitation: RowDecodable {
    public init(row: PostgresRow) throws {
        let (id, email, role, expires) = try row.decode((String, String?, String?, Date).self)
        self.init(id: id, email: email ?? "", role: role.flatMap(Role.init) ?? .viewer, expiresAt: expires)
    }
}

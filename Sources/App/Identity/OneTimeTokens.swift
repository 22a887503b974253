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
public enum OneTimeTokens {
    /// Stores a new token and returns it (the only time it exists in clear).
    public static func issue(_ token: OneTimeToken, on connection: some PostgresQueryRunner, logger: Logger) async throws -> String {
        let raw = SecretToken.make()
        let seconds = Double(token.purpose.lifetime.components.seconds)
        _ = try await connection.runQuery(
            """
            INSERT INTO platform.one_time_tokens
                (token_hash, purpose, user_id, email, partner_id, tenant_id, role, created_by, note, expires_at)
            VALUES (\(Data(SecretToken.hash(raw))), \(token.purpose.rawValue), \(token.userID), \(token.email), \(token.partnerID),
                \(token.tenantID), \(token.role?.rawValue), \(token.createdBy), \(token.note), now() + make_interval(secs => \(seconds)))
            """, logger: logger)
        return raw
    }

    /// The token's meaning if it is valid (unused, unexpired, not revoked), without using it up.
    public static func peek(
        _ raw: String, purpose: TokenPurpose, on connection: some PostgresQueryRunner, logger: Logger
    ) async throws
        -> OneTimeToken?
    {
        guard SecretToken.looksValid(raw) else { return nil }
        let rows = try await connection.runQuery(
            """
            SELECT user_id, email, partner_id, tenant_id, role, created_by, note FROM platform.one_time_tokens
            WHERE token_hash = \(Data(SecretToken.hash(raw))) AND purpose = \(purpose.rawValue)
                AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            """, logger: logger)
        return try await decode(rows, purpose: purpose)
    }

    /// Uses the token up, atomically: of two concurrent uses exactly one gets the token back.
    public static func consume(
        _ raw: String, purpose: TokenPurpose, on connection: some PostgresQueryRunner, logger: Logger
    )
        async throws -> OneTimeToken?
    {
        guard SecretToken.looksValid(raw) else { return nil }
        let rows = try await connection.runQuery(
            """
            UPDATE platform.one_time_tokens SET used_at = now()
            WHERE token_hash = \(Data(SecretToken.hash(raw))) AND purpose = \(purpose.rawValue)
                AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            RETURNING user_id, email, partner_id, tenant_id, role, created_by, note
            """, logger: logger)
        return try await decode(rows, purpose: purpose)
    }

    private static func decode(_ rows: PostgresRowSequence, purpose: TokenPurpose) async throws -> OneTimeToken? {
        for try await row in rows.decode((UUID?, String?, UUID?, UUID?, String?, UUID?, String?).self) {
            return OneTimeToken(
                purpose: purpose, userID: row.0, email: row.1, partnerID: row.2, tenantID: row.3, role: row.4.flatMap(Role.init),
                createdBy: row.5, note: row.6)
        }
        return nil
    }

    /// A tenant's invitations that can still be accepted.
    public static func pendingInvitations(tenantID: UUID, on client: PostgresClient, logger: Logger) async throws -> [PendingInvitation] {
        let rows = try await client.query(
            """
            SELECT encode(token_hash, 'hex'), email, role, expires_at FROM platform.one_time_tokens
            WHERE tenant_id = \(tenantID) AND purpose = 'invite' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
            ORDER BY created_at DESC
            """, logger: logger)
        var invitations: [PendingInvitation] = []
        for try await (id, email, role, expires) in rows.decode((String, String?, String?, Date).self) {
            invitations.append(
                PendingInvitation(id: id, email: email ?? "", role: role.flatMap(Role.init) ?? .viewer, expiresAt: expires))
        }
        return invitations
    }

    /// Revokes one of a tenant's pending invitations (by the hex id the team page shows); returns its address.
    public static func revokeInvitation(id: String, tenantID: UUID, on client: PostgresClient, logger: Logger) async throws -> String? {
        guard id.count == 64, id.allSatisfy(\.isHexDigit) else { return nil }
        let rows = try await client.query(
            """
            UPDATE platform.one_time_tokens SET revoked_at = now()
            WHERE token_hash = decode(\(id), 'hex') AND tenant_id = \(tenantID) AND purpose = 'invite' AND used_at IS NULL
                AND revoked_at IS NULL
            RETURNING email
            """, logger: logger)
        for try await (email) in rows.decode(String?.self) { return email ?? "" }
        return nil
    }
}

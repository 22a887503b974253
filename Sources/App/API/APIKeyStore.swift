import Foundation
import PostgresNIO

/// API keys in `platform.api_keys`: created (the token returned once, only its hash kept), listed, revoked, and
/// looked up by token in one round trip that also notes when the key was last used.
public struct APIKeyStore: Sendable {
    let database: Database
    let auditLog: AuditLog

    public init(database: Database, auditLog: AuditLog) {
        self.database = database
        self.auditLog = auditLog
    }

    /// Creates a key and writes the audit entry in the same transaction; returns the token (shown once) and its prefix.
    public func create(
        owner: APIKeyOwner, name: String, scopes: [APIScope], createdBy: UUID?, audit: AuditEntry
    ) async throws -> (prefix: String, token: String) {
        let (prefix, token) = APIKeyToken.make()
        let hash = Data(SecretToken.hash(token))
        let scopeNames = scopes.map(\.rawValue)
        try await database.transaction { transaction in
            try await transaction.execute(
                """
                INSERT INTO platform.api_keys (id, partner_id, tenant_id, name, prefix, secret_hash, scopes, created_by)
                VALUES (\(UUID()), \(owner.partnerID), \(owner.tenantID), \(name), \(prefix), \(hash), \(scopeNames), \(createdBy))
                """)
            var entry = audit
            entry.details["prefix"] = prefix
            entry.details["scopes"] = scopeNames.joined(separator: " ")
            try await auditLog.record(entry, on: transaction)
        }
        return (prefix, token)
    }

    /// The owner's keys, newest first (revoked ones too, marked).
    public func list(owner: APIKeyOwner) async throws -> [APIKeyListing] {
        try await database.all(
            APIKeyListing.self,
            """
            SELECT k.id, k.name, k.prefix, k.scopes, k.created_at, u.email, k.last_used_at, k.revoked_at
            FROM platform.api_keys k LEFT JOIN platform.users u ON u.id = k.created_by
            WHERE k.partner_id = \(owner.partnerID) OR k.tenant_id = \(owner.tenantID)
            ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC
            """)
    }

    /// Revokes one of the owner's keys and audits it in the same transaction; returns its name and prefix, or `nil`
    /// when the owner has no such live key.
    public func revoke(id: UUID, owner: APIKeyOwner, audit: AuditEntry) async throws -> (name: String, prefix: String)? {
        try await database.transaction { transaction in
            guard
                let (name, prefix) = try await transaction.value(
                    (String, String).self,
                    """
                    UPDATE platform.api_keys SET revoked_at = now()
                    WHERE id = \(id) AND revoked_at IS NULL AND (partner_id = \(owner.partnerID) OR tenant_id = \(owner.tenantID))
                    RETURNING name, prefix
                    """)
            else { return nil }
            var entry = audit
            entry.target = name
            entry.details["prefix"] = prefix
            try await auditLog.record(entry, on: transaction)
            return (name, prefix)
        }
    }

    /// The live key with this token, in one round trip: the same statement notes the use when the last one is older
    /// than a minute (a busy key costs no write per request). A tenant key stops working when its tenant is deleted.
    public func authenticate(token: String) async throws -> AuthenticatedKey? {
        guard APIKeyToken.looksValid(token) else { return nil }
        let hash = Data(SecretToken.hash(token))
        let rows = try await database.values(
            (UUID, UUID?, UUID?, String, String, [String], UUID?, UUID?).self,
            """
            WITH k AS (
                SELECT k.id, k.partner_id, k.tenant_id, k.name, k.prefix, k.scopes, k.last_used_at,
                    t.partner_id AS tenant_partner_id, k.created_by
                FROM platform.api_keys k LEFT JOIN platform.tenants t ON t.id = k.tenant_id
                WHERE k.secret_hash = \(hash) AND k.revoked_at IS NULL
                    AND (k.tenant_id IS NULL OR t.status IN ('active', 'suspended'))
            ), touched AS (
                UPDATE platform.api_keys a SET last_used_at = now() FROM k
                WHERE a.id = k.id AND (k.last_used_at IS NULL
                    OR k.last_used_at < now() - interval '60 seconds')
                RETURNING a.id
            )
            SELECT id, partner_id, tenant_id, name, prefix, scopes, tenant_partner_id, created_by FROM k
            """)
        for (id, partnerID, tenantID, name, prefix, scopes, tenantPartner, createdBy) in rows {
            let owner: APIKeyOwner
            if let partnerID {
                owner = .partner(partnerID)
            } else if let tenantID {
                owner = .tenant(tenantID)
            } else {
                return nil
            }
            // Scopes of the other kind of owner never apply, whatever the row says.
            let allowed = Set(APIScope.available(for: owner))
            return AuthenticatedKey(
                id: id, owner: owner, name: name, prefix: prefix, scopes: Set(scopes.compactMap(APIScope.init)).intersection(allowed),
                tenantPartnerID: tenantPartner, createdBy: createdBy)
        }
        return nil
    }
}

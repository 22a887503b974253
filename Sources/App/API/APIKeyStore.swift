import Foundation
import Logging
import PostgresNIO

/// API keys in `platform.api_keys`: created (the token returned once, only its hash kept), listed, revoked, and
/// looked up by token in one round trip that also notes when the key was last used.
public struct APIKeyStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Creates a key and writes the audit entry in the same transaction; returns the token (shown once) and its prefix.
    public func create(
        owner: APIKeyOwner, name: String, scopes: [APIScope], createdBy: UUID?, audit: AuditEntry
    ) async throws -> (prefix: String, token: String) {
        let (prefix, token) = APIKeyToken.make()
        let hash = Data(SecretToken.hash(token))
        let scopeNames = scopes.map(\.rawValue)
        try await client.platformTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO platform.api_keys (id, partner_id, tenant_id, name, prefix, secret_hash, scopes, created_by)
                VALUES (\(UUID()), \(owner.partnerID), \(owner.tenantID), \(name), \(prefix), \(hash), \(scopeNames), \(createdBy))
                """, logger: logger)
            var entry = audit
            entry.details["prefix"] = prefix
            entry.details["scopes"] = scopeNames.joined(separator: " ")
            try await AuditLog.record(entry, on: connection, logger: logger)
        }
        return (prefix, token)
    }

    /// The owner's keys, newest first (revoked ones too, marked).
    public func list(owner: APIKeyOwner) async throws -> [APIKeyListing] {
        let rows = try await client.query(
            """
            SELECT k.id, k.name, k.prefix, k.scopes, k.created_at, u.email, k.last_used_at, k.revoked_at
            FROM platform.api_keys k LEFT JOIN platform.users u ON u.id = k.created_by
            WHERE k.partner_id = \(owner.partnerID) OR k.tenant_id = \(owner.tenantID)
            ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC
            """, logger: logger)
        var keys: [APIKeyListing] = []
        for try await (id, name, prefix, scopes, created, by, used, revoked) in rows.decode(
            (UUID, String, String, [String], Date, String?, Date?, Date?).self)
        {
            keys.append(
                APIKeyListing(
                    id: id, name: name, prefix: prefix, scopes: scopes, createdAt: created, createdBy: by, lastUsedAt: used,
                    revokedAt: revoked))
        }
        return keys
    }

    /// Revokes one of the owner's keys and audits it in the same transaction; returns its name and prefix, or `nil`
    /// when the owner has no such live key.
    public func revoke(id: UUID, owner: APIKeyOwner, audit: AuditEntry) async throws -> (name: String, prefix: String)? {
        try await client.platformTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE platform.api_keys SET revoked_at = now()
                WHERE id = \(id) AND revoked_at IS NULL AND (partner_id = \(owner.partnerID) OR tenant_id = \(owner.tenantID))
                RETURNING name, prefix
                """, logger: logger)
            for try await (name, prefix) in rows.decode((String, String).self) {
                var entry = audit
                entry.target = name
                entry.details["prefix"] = prefix
                try await AuditLog.record(entry, on: connection, logger: logger)
                return (name, prefix)
            }
            return nil
        }
    }

    /// The live key with this token, in one round trip: the same statement notes the use when the last one is older
    /// than a minute (a busy key costs no write per request). A tenant key stops working when its tenant is deleted.
    public func authenticate(token: String) async throws -> AuthenticatedKey? {
        guard APIKeyToken.looksValid(token) else { return nil }
        let hash = Data(SecretToken.hash(token))
        let rows = try await client.query(
            """
            WITH k AS (
                SELECT k.id, k.partner_id, k.tenant_id, k.name, k.prefix, k.scopes, k.last_used_at, t.schema_name,
                    t.partner_id AS tenant_partner_id
                FROM platform.api_keys k LEFT JOIN platform.tenants t ON t.id = k.tenant_id
                WHERE k.secret_hash = \(hash) AND k.revoked_at IS NULL
                    AND (k.tenant_id IS NULL OR t.status IN ('active', 'suspended'))
            ), touched AS (
                UPDATE platform.api_keys a SET last_used_at = now() FROM k
                WHERE a.id = k.id AND (k.last_used_at IS NULL
                    OR k.last_used_at < now() - interval '60 seconds')
                RETURNING a.id
            )
            SELECT id, partner_id, tenant_id, name, prefix, scopes, schema_name, tenant_partner_id FROM k
            """, logger: logger)
        for try await (id, partnerID, tenantID, name, prefix, scopes, schema, tenantPartner) in rows.decode(
            (UUID, UUID?, UUID?, String, String, [String], String?, UUID?).self)
        {
            let owner: APIKeyOwner
            var tenantScope: TenantScope?
            if let partnerID {
                owner = .partner(partnerID)
            } else if let tenantID, let schema = schema.flatMap(SchemaName.init) {
                owner = .tenant(tenantID)
                tenantScope = TenantScope(id: tenantID, schema: schema)
            } else {
                return nil
            }
            // Scopes of the other kind of owner never apply, whatever the row says.
            let allowed = Set(APIScope.available(for: owner))
            return AuthenticatedKey(
                id: id, owner: owner, name: name, prefix: prefix, scopes: Set(scopes.compactMap(APIScope.init)).intersection(allowed),
                tenantScope: tenantScope, tenantPartnerID: tenantPartner)
        }
        return nil
    }
}

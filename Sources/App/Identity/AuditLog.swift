import Foundation
import Logging
import PostgresNIO

/// One thing someone did, for the audit log.
public struct AuditEntry: Sendable {
    public var actorID: UUID?
    public var actorEmail: String?
    public var partnerID: UUID?
    public var tenantID: UUID?
    public var action: String
    public var target: String
    public var details: [String: String]
    public var address: String?

    public init(
        actorID: UUID?, actorEmail: String?, partnerID: UUID? = nil, tenantID: UUID? = nil, action: String, target: String = "",
        details: [String: String] = [:], address: String?
    ) {
        self.actorID = actorID
        self.actorEmail = actorEmail
        self.partnerID = partnerID
        self.tenantID = tenantID
        self.action = action
        self.target = target
        self.details = details
        self.address = address
    }
}

/// A line of the audit log as the panel shows it.
public struct AuditRecord: Sendable {
    public var id: Int
    public var at: Date
    public var actorEmail: String?
    public var action: String
    public var target: String
    public var details: [String: String]
    public var address: String?
    public var tenantName: String?
}

/// Which part of the audit log a panel may see, and the user's filters.
public struct AuditQuery: Sendable {
    public enum Scope: Sendable {
        case tenant(UUID)
        /// A partner's own entries and those of all its tenants.
        case partner(UUID)
        case platform
    }
    public var scope: Scope
    public var action: String?
    public var actor: String?
    public var from: Date?
    public var to: Date?
    public var page = 1
    public var perPage = 50

    public init(scope: Scope) { self.scope = scope }
}

/// The audit log: who did what, when, from where. Written in the same transaction as the change when there is one.
public enum AuditLog {
    public static func record(_ entry: AuditEntry, on connection: some PostgresQueryRunner, logger: Logger) async throws {
        let details = String(decoding: try JSONEncoder().encode(entry.details), as: UTF8.self)
        _ = try await connection.runQuery(
            """
            INSERT INTO platform.audit_log (actor_id, actor_email, partner_id, tenant_id, action, target, details, address)
            VALUES (\(entry.actorID), \(entry.actorEmail), \(entry.partnerID), \(entry.tenantID), \(entry.action), \(entry.target),
                \(details)::jsonb, \(entry.address))
            """, logger: logger)
    }

    /// One page of matching entries, newest first, and how many match in all.
    public static func search(
        _ query: AuditQuery, on client: PostgresClient, logger: Logger
    ) async throws -> (
        records: [AuditRecord], total: Int
    ) {
        var tenantID: UUID?
        var partnerID: UUID?
        switch query.scope {
        case .tenant(let id): tenantID = id
        case .partner(let id): partnerID = id
        case .platform: break
        }
        let action = query.action.map { $0 + "%" }
        let actor = query.actor.map { "%" + $0.replacingOccurrences(of: "%", with: "") + "%" }
        let offset = (max(query.page, 1) - 1) * query.perPage
        let rows = try await client.query(
            """
            SELECT a.id::int, a.at, a.actor_email, a.action, a.target, a.details::text, a.address, t.name, count(*) OVER ()::int
            FROM platform.audit_log a LEFT JOIN platform.tenants t ON t.id = a.tenant_id
            WHERE (\(tenantID)::uuid IS NULL OR a.tenant_id = \(tenantID))
                AND (\(partnerID)::uuid IS NULL OR a.partner_id = \(partnerID) OR t.partner_id = \(partnerID))
                AND (\(action)::text IS NULL OR a.action LIKE \(action))
                AND (\(actor)::text IS NULL OR a.actor_email ILIKE \(actor))
                AND (\(query.from)::timestamptz IS NULL OR a.at >= \(query.from))
                AND (\(query.to)::timestamptz IS NULL OR a.at < \(query.to))
            ORDER BY a.id DESC LIMIT \(query.perPage) OFFSET \(offset)
            """, logger: logger)
        var records: [AuditRecord] = []
        var total = 0
        for try await row in rows.decode((Int, Date, String?, String, String, String, String?, String?, Int).self) {
            let details = (try? JSONDecoder().decode([String: String].self, from: Data(row.5.utf8))) ?? [:]
            records.append(
                AuditRecord(
                    id: row.0, at: row.1, actorEmail: row.2, action: row.3, target: row.4, details: details, address: row.6,
                    tenantName: row.7))
            total = row.8
        }
        if records.isEmpty, offset > 0 {
            // Past the last page: the total still matters for the pager.
            var first = query
            first.page = 1
            return (records, try await search(first, on: client, logger: logger).total)
        }
        return (records, total)
    }
}

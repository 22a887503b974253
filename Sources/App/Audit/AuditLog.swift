import Foundation
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
public struct AuditLog: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func record(_ entry: AuditEntry, on runner: (any QueryRunner)? = nil) async throws {
        let details = String(decoding: try JSONEncoder().encode(entry.details), as: UTF8.self)
        try await (runner ?? database).execute(
            """
            INSERT INTO platform.audit_log (actor_id, actor_email, partner_id, tenant_id, action, target, details, address)
            VALUES (\(entry.actorID), \(entry.actorEmail), \(entry.partnerID), \(entry.tenantID), \(entry.action), \(entry.target),
                \(details)::jsonb, \(entry.address))
            """)
    }

    /// One page of matching entries, newest first, and how many match in all.
    public func search(_ query: AuditQuery) async throws -> (records: [AuditRecord], total: Int) {
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
        let rows = try await database.rows(
            """
            SELECT \(unescaped: AuditRecord.columns), count(*) OVER ()::int
            FROM platform.audit_log a LEFT JOIN platform.tenants t ON t.id = a.tenant_id
            WHERE (\(tenantID)::uuid IS NULL OR a.tenant_id = \(tenantID))
                AND (\(partnerID)::uuid IS NULL OR a.partner_id = \(partnerID) OR t.partner_id = \(partnerID))
                AND (\(action)::text IS NULL OR a.action LIKE \(action))
                AND (\(actor)::text IS NULL OR a.actor_email ILIKE \(actor))
                AND (\(query.from)::timestamptz IS NULL OR a.at >= \(query.from))
                AND (\(query.to)::timestamptz IS NULL OR a.at < \(query.to))
            ORDER BY a.id DESC LIMIT \(query.perPage) OFFSET \(offset)
            """)
        let records = try rows.map(AuditRecord.init(row:))
        let total = try rows.first.map { try $0.makeRandomAccess()[8].decode(Int.self) } ?? 0
        if records.isEmpty, offset > 0 {
            // Past the last page: the total still matters for the pager.
            var first = query
            first.page = 1
            return (records, try await search(first).total)
        }
        return (records, total)
    }
}

extension AuditRecord: RowDecodable {
    static let columns = "a.id::int, a.at, a.actor_email, a.action, a.target, a.details::text, a.address, t.name"

    public init(row: PostgresRow) throws {
        let (id, at, actor, action, target, details, address, tenant) = try row.decode(
            (Int, Date, String?, String, String, String, String?, String?).self)
        self.init(
            id: id, at: at, actorEmail: actor, action: action, target: target,
            details: (try? JSONDecoder().decode([String: String].self, from: Data(details.utf8))) ?? [:], address: address,
            tenantName: tenant)
    }
}

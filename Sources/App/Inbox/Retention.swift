import Foundation
import Logging

/// The job that applies a shop's retention setting: conversations whose last message is older than
/// `inbox_settings.retention_days` are deleted with their messages and events, then contacts left with no conversation
/// and untouched for as long. Runs in batches of 500, each its own transaction.
public struct ApplyRetention: JobKind {
    public static let kind = "inbox.retention"
    public init() {}
}

public struct Retention: Sendable {
    let tenants: TenantDatabase
    let database: Database
    let jobs: JobQueue

    public init(tenants: TenantDatabase, database: Database, jobs: JobQueue) {
        self.tenants = tenants
        self.database = database
        self.jobs = jobs
    }

    /// Deletes what is past the shop's retention; returns how many conversations went.
    @discardableResult
    public func apply(_ tenant: TenantRecord, logger: Logger) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await tenants.withTenant(tenant, logger: logger) { connection -> Int in
                // Delivery reports on no message of ours (kept in case they overtook the send's record) go too, whatever
                // the shop keeps.
                guard
                    let days = try await connection.value(
                        Int.self,
                        """
                        WITH stray AS (DELETE FROM early_delivery_reports WHERE received_at < now() - interval '1 hour')
                        SELECT retention_days FROM inbox_settings WHERE retention_days IS NOT NULL
                        """)
                else { return 0 }
                let conversations =
                    try await connection.value(
                        Int.self,
                        """
                        WITH gone AS (DELETE FROM conversations WHERE id IN (
                            SELECT id FROM conversations WHERE last_message_at < now() - \(days) * interval '1 day' LIMIT 500)
                            RETURNING 1)
                        SELECT count(*)::int FROM gone
                        """) ?? 0
                try await connection.execute(
                    """
                    DELETE FROM contacts co WHERE co.updated_at < now() - \(days) * interval '1 day'
                        AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = co.id)
                        AND NOT EXISTS (SELECT 1 FROM widget_visitors v WHERE v.contact_id = co.id
                            AND v.last_seen_at >= now() - \(days) * interval '1 day')
                    """)
                return conversations
            }
            total += deleted
            if deleted < 500 { break }
        }
        if total > 0 { logger.info("Retention deleted conversations", metadata: ["count": "\(total)"]) }
        return total
    }

    /// Queues one retention job per live shop and day (the periodic task of every worker process runs this; the
    /// idempotency key makes it once).
    public func queueDaily(now: Date) async throws {
        let day = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        try await database.execute(
            """
            INSERT INTO platform.jobs (tenant_id, kind, idempotency_key)
            SELECT t.id, \(ApplyRetention.kind), 'retention:' || t.id || ':' || \(day)
            FROM platform.tenants t WHERE t.status = 'active'
            ON CONFLICT (idempotency_key) DO NOTHING
            """)
    }
}

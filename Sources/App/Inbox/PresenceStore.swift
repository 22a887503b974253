import Foundation

/// Operators' presence in a shop's inbox, in `platform.operator_presence` so every process agrees: an open inbox
/// reports every 30 s (online, or away when the operator says so); a report older than 90 s counts as offline.
public struct PresenceStore: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case online, away
    }

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// How long a report counts.
    public static let freshFor: Duration = .seconds(90)

    public func report(_ status: Status, user: UUID, tenant: UUID) async throws {
        try await database.execute(
            """
            INSERT INTO platform.operator_presence (tenant_id, user_id, status, seen_at) VALUES (\(tenant), \(user), \(status.rawValue), now())
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET status = EXCLUDED.status, seen_at = now()
            """)
    }

    /// The operator's own status as last reported (nil: offline).
    public func status(user: UUID, tenant: UUID) async throws -> Status? {
        try await database.value(
            String.self,
            """
            SELECT status FROM platform.operator_presence WHERE tenant_id = \(tenant) AND user_id = \(user)
                AND seen_at > now() - interval '90 seconds'
            """
        ).flatMap(Status.init(rawValue:))
    }

    /// Signing out: offline at once.
    public func leave(user: UUID, tenant: UUID) async throws {
        try await database.execute("DELETE FROM platform.operator_presence WHERE tenant_id = \(tenant) AND user_id = \(user)")
    }
}

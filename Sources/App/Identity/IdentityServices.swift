import Foundation
import Logging
import PostgresNIO

/// Everything sign-in and the panels need about people, built once.
public struct IdentityServices: Sendable {
    public let users: UserStore
    public let sessions: SessionStore
    public let throttle: LoginThrottle
    public let hasher: PasswordHasher
    public let outbox: Outbox
    public let database: Database
    public let logger: Logger

    public init(database: Database, configuration: AppConfiguration, logger: Logger) {
        self.database = database
        self.logger = logger
        users = UserStore(client: database.client, logger: logger)
        sessions = SessionStore(client: database.client, policy: configuration.sessionPolicy, logger: logger)
        throttle = LoginThrottle(client: database.client, logger: logger)
        hasher = configuration.passwordHasher
        outbox = Outbox(client: database.client, delivers: configuration.smtpURL != nil, logger: logger)
    }

    var client: PostgresClient { database.client }

    /// The roles a user holds that can apply to a site.
    public func roles(userID: UUID, site: Site) async throws -> [Role] {
        let scope = site.membershipScope
        let rows = try await client.query(
            """
            SELECT role FROM platform.memberships WHERE user_id = \(userID)
                AND (tenant_id = \(scope.tenant) OR partner_id = \(scope.partner) OR (tenant_id IS NULL AND partner_id IS NULL))
            """, logger: logger)
        var roles: [Role] = []
        for try await (role) in rows.decode(String.self) { if let role = Role(rawValue: role) { roles.append(role) } }
        return roles
    }

    /// Writes an audit entry outside any other transaction.
    public func audit(_ entry: AuditEntry) async throws {
        try await AuditLog.record(entry, on: client, logger: logger)
    }
}

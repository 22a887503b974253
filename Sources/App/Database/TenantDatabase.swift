import Foundation
import Logging
import PostgresNIO

/// The one door to tenant data.
///
/// - `withTenant` opens a transaction on a pooled connection whose `search_path` is set with `set_config(..., true)`,
///   which PostgreSQL reverts at COMMIT or ROLLBACK, so a pooled connection never carries one tenant's path into the
///   next request. The same statement checks the tenant's status in the directory table: a tenant that is not active
///   (unless the caller admits more) is refused before anything runs, so a job for a suspended shop cannot keep writing.
/// - `read` runs one statement written against `{schema}`, schema-qualified by the server and prepared once per
///   connection (see `TenantStatements`); the search path stays empty.
/// - `scoped` points a transaction the caller already holds (migrations, provisioning, import) at a tenant and back.
///
/// Connections start with an empty search path, so SQL that escapes the door fails with "relation does not exist"
/// instead of reading another schema. Every way through tags the logger with the tenant's id.
public struct TenantDatabase: Sendable {
    let database: Database
    let statements: TenantStatements
    let logger: Logger

    public init(database: Database, statementsPerConnection: Int = 256, logger: Logger) {
        self.database = database
        self.statements = TenantStatements(capacity: statementsPerConnection)
        self.logger = logger
    }

    /// Runs `body` in a transaction inside the tenant's schema.
    public func withTenant<T: Sendable>(
        _ tenant: TenantRecord, readOnly: Bool = false, isolation: Isolation = .readCommitted, admitting: Admission = .active,
        logger: Logger? = nil, _ body: (TenantConnection) async throws -> T
    ) async throws -> T {
        try admitting.check(tenant)
        let logger = Self.tagged(logger ?? self.logger, tenant.id)
        let begin = "BEGIN ISOLATION LEVEL \(isolation.rawValue)" + (readOnly ? " READ ONLY" : "")
        return try await database.withConnection { connection in
            try await Transaction.run(on: connection, logger: logger, begin: begin) { transaction in
                let entered = try await transaction.rows(
                    """
                    SELECT pg_catalog.set_config('search_path', schema_name, true) FROM platform.tenants
                    WHERE id = \(tenant.id) AND schema_name = \(tenant.schema.value) AND status = ANY(\(admitting.statuses))
                    """)
                guard !entered.isEmpty else { throw TenantUnavailable(tenantID: tenant.id, slug: tenant.slug) }
                logger.trace("Tenant door opened", metadata: ["door": "transaction"])
                return try await body(TenantConnection(connection: connection, scope: tenant.scope, logger: logger))
            }
        }
    }

    /// Runs one read statement (one round trip; prepared once per connection and tenant).
    public func read<Row: Sendable>(
        _ tenant: TenantRecord, _ statement: TenantStatement<Row>, admitting: Admission = .active, logger: Logger? = nil
    ) async throws -> [Row] {
        try admitting.check(tenant)
        let logger = Self.tagged(logger ?? self.logger, tenant.id)
        logger.trace("Tenant door opened", metadata: ["door": "read", "statement": .string(statement.name)])
        let rows = try await database.withConnection { connection in
            try await statements.execute(statement, schema: tenant.schema, on: connection, logger: logger)
        }
        return try rows.map { try statement.decode(PreparedRow($0)) }
    }

    /// Points the transaction the caller holds at a tenant's schema for `body`, and back to the empty path after it.
    /// For work on a tenant the directory does not list yet (provisioning, import) or must not wait for (migrations).
    public static func scoped<T>(
        _ transaction: Transaction, _ scope: TenantScope, lockTimeout: String? = nil, _ body: (TenantConnection) async throws -> T
    ) async throws -> T {
        precondition(SchemaName.isValid(scope.schema.value))
        let logger = tagged(transaction.logger, scope.id)
        if let lockTimeout {
            try await transaction.execute(
                "SELECT set_config('search_path', \(scope.schema.value), true), set_config('lock_timeout', \(lockTimeout), true)")
        } else {
            try await transaction.execute("SELECT set_config('search_path', \(scope.schema.value), true)")
        }
        logger.trace("Tenant door opened", metadata: ["door": "scoped"])
        let value = try await body(TenantConnection(connection: transaction.connection, scope: scope, logger: logger))
        try await transaction.execute("SELECT set_config('search_path', '', true)")
        return value
    }

    static func tagged(_ logger: Logger, _ tenantID: UUID) -> Logger {
        let id = Logger.MetadataValue.string(tenantID.uuidString.lowercased())
        // Requests arrive tagged already (SiteMiddleware): setting it again would re-format the handler's metadata.
        guard logger[metadataKey: "tenant_id"] != id else { return logger }
        var logger = logger
        logger[metadataKey: "tenant_id"] = id
        return logger
    }

    /// The transaction isolation levels the door opens.
    public enum Isolation: String, Sendable {
        case readCommitted = "READ COMMITTED"
        /// One snapshot for the whole transaction (exports).
        case repeatableRead = "REPEATABLE READ"
    }

    /// Which tenant statuses a caller accepts. The default is active tenants only.
    public enum Admission: Sendable {
        case active
        /// Active or suspended: the operator's and the agency's own tools.
        case activeOrSuspended
        /// Any tenant whose schema still exists (exports of deleted shops in their grace period).
        case anyLive

        var statuses: [String] {
            switch self {
            case .active: ["active"]
            case .activeOrSuspended: ["active", "suspended"]
            case .anyLive: ["active", "suspended", "deleted"]
            }
        }

        func check(_ tenant: TenantRecord) throws {
            guard statuses.contains(tenant.status.rawValue) else {
                throw TenantUnavailable(tenantID: tenant.id, slug: tenant.slug, status: tenant.status)
            }
        }
    }
}

/// The door refused: the tenant is not in a state the caller admits (suspended, deleted) or no longer exists.
public struct TenantUnavailable: Error, Sendable, CustomStringConvertible {
    public let tenantID: UUID
    public let slug: String
    /// The status the directory knew, when the refusal came from it (else the database refused).
    public var status: TenantStatus?

    public var description: String {
        "The shop \(slug) is \(status?.rawValue ?? "not active"): its data cannot be reached until it is active again."
    }
}

/// A connection inside a tenant's transaction, its search path pointing at that tenant's schema only.
public struct TenantConnection: QueryRunner {
    public let connection: PostgresConnection
    public let scope: TenantScope
    public let logger: Logger

    /// Runs one statement; unqualified table names resolve in the tenant's schema.
    public func rows(_ query: PostgresQuery, file: String, line: Int) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger, file: file, line: line).collect()
    }

    /// The same connection as a platform transaction (audit entries and platform rows written with the tenant's change).
    public var transaction: Transaction { Transaction(connection: connection, logger: logger) }
}

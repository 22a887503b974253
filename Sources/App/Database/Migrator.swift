import Foundation
import Logging
import PostgresNIO

/// Something worth telling the operator while migrations run.
public enum MigrationEvent: Sendable {
    case waitingForLock
    case platformApplied(version: Int, name: String)
    case tenantsStarting(behind: Int, total: Int)
    case tenantFinished(slug: String, error: String?, done: Int, total: Int)
}

/// What a migration run did.
public struct MigrationReport: Sendable {
    public var platformApplied: [String] = []
    public var tenantsMigrated = 0
    public var tenantsTotal = 0
    public var failures: [(slug: String, message: String)] = []
    public var nothingToDo: Bool { platformApplied.isEmpty && tenantsMigrated == 0 && failures.isEmpty }
}

/// Applies `Migrations/platform` to the platform schema and `Migrations/tenant` to every tenant schema.
///
/// One migrator at a time (a session advisory lock); checksums of applied files are checked; each tenant is
/// migrated in its own transaction with a lock timeout by a bounded pool of workers; a failing tenant is recorded
/// in `platform.tenants.migration_error` and the others go on. `platform.tenants.schema_version` is the central
/// record, so "who is behind?" is a single indexed query.
public struct Migrator: Sendable {
    public let platformFiles: [MigrationFile]
    public let tenantFiles: [MigrationFile]
    let database: Database
    let workers: Int
    let lockTimeout: String
    let logger: Logger

    static let advisoryLockKey: Int64 = 0x5649_5452_494E  // "VITRIN"

    public init(migrationsFolder: String, database: Database, workers: Int = 4, lockTimeout: String = "5s", logger: Logger) throws {
        self.platformFiles = try MigrationFile.load(folder: migrationsFolder + "/platform")
        self.tenantFiles = try MigrationFile.load(folder: migrationsFolder + "/tenant")
        self.database = database
        self.workers = max(1, workers)
        self.lockTimeout = lockTimeout
        self.logger = logger
    }

    /// The tenant schema version that provisioning creates.
    public var latestTenantVersion: Int { tenantFiles.last?.version ?? 0 }

    public func migrate(progress: @escaping @Sendable (MigrationEvent) -> Void = { _ in }) async throws -> MigrationReport {
        try await database.withConnection { lockConnection in
            let gotLock =
                try await lockConnection.query(
                    "SELECT pg_try_advisory_lock(\(Self.advisoryLockKey))", logger: logger
                ).collect().first?.decode(Bool.self) ?? false
            if !gotLock {
                progress(.waitingForLock)
                try await lockConnection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            }
            do {
                let report = try await migrateLocked(progress: progress)
                try await lockConnection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return report
            } catch {
                _ = try? await lockConnection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    private func migrateLocked(progress: @escaping @Sendable (MigrationEvent) -> Void) async throws -> MigrationReport {
        var report = MigrationReport()
        try await bootstrap()
        for file in try await pendingPlatformFiles() {
            try await applyPlatform(file)
            report.platformApplied.append(String(format: "%04d_%@", file.version, file.name))
            progress(.platformApplied(version: file.version, name: file.name))
        }
        try await recordTenantFiles()
        let latest = latestTenantVersion
        let total = try await database.value(Int.self, "SELECT count(*) FROM platform.tenants WHERE status <> 'purged'") ?? 0
        report.tenantsTotal = total
        let behind = try await database.values(
            (UUID, String, String, Int).self,
            """
            SELECT id, slug, schema_name, schema_version FROM platform.tenants
            WHERE schema_version < \(latest) AND status <> 'purged' ORDER BY slug
            """
        ).map { (id: $0.0, slug: $0.1, schema: $0.2, version: $0.3) }
        guard !behind.isEmpty else { return report }
        progress(.tenantsStarting(behind: behind.count, total: total))
        let results = try await withThrowingTaskGroup(of: (String, String?).self) { group in
            var iterator = behind.makeIterator()
            var results: [(String, String?)] = []
            func addNext() -> Bool {
                guard let tenant = iterator.next() else { return false }
                group.addTask {
                    (tenant.slug, await migrateTenant(id: tenant.id, schema: tenant.schema, from: tenant.version))
                }
                return true
            }
            for _ in 0..<workers where addNext() {}
            while let result = try await group.next() {
                results.append(result)
                progress(.tenantFinished(slug: result.0, error: result.1, done: results.count, total: behind.count))
                _ = addNext()
            }
            return results
        }
        for (slug, error) in results {
            if let error { report.failures.append((slug, error)) } else { report.tenantsMigrated += 1 }
        }
        report.failures.sort { $0.slug < $1.slug }
        return report
    }

    /// The bookkeeping table has to exist before anything can be read from it.
    private func bootstrap() async throws {
        try await database.execute("CREATE SCHEMA IF NOT EXISTS platform")
        try await database.execute(
            """
            CREATE TABLE IF NOT EXISTS platform.schema_migrations (
                scope text NOT NULL CHECK (scope IN ('platform', 'tenant')),
                version integer NOT NULL,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (scope, version))
            """)
    }

    private func recorded(scope: String) async throws -> [Int: (name: String, checksum: String)] {
        var result: [Int: (String, String)] = [:]
        for (version, name, checksum) in try await database.values(
            (Int, String, String).self, "SELECT version, name, checksum FROM platform.schema_migrations WHERE scope = \(scope)")
        {
            result[version] = (name, checksum)
        }
        return result
    }

    /// Checks recorded checksums against the files; an edited or vanished applied file stops everything.
    static func verify(scope: String, files: [MigrationFile], recorded: [Int: (name: String, checksum: String)]) throws {
        for (version, entry) in recorded.sorted(by: { $0.key < $1.key }) {
            guard let file = files.first(where: { $0.version == version }) else {
                throw MigrationError.missingFile(scope: scope, version: version, name: entry.name)
            }
            guard file.checksum == entry.checksum else {
                throw MigrationError.checksumMismatch(scope: scope, version: version, name: file.name)
            }
        }
    }

    private func pendingPlatformFiles() async throws -> [MigrationFile] {
        let applied = try await recorded(scope: "platform")
        try Self.verify(scope: "platform", files: platformFiles, recorded: applied)
        return platformFiles.filter { applied[$0.version] == nil }
    }

    private func applyPlatform(_ file: MigrationFile) async throws {
        do {
            try await database.transaction { transaction in
                try await transaction.execute("SELECT set_config('lock_timeout', \(lockTimeout), true)")
                for statement in file.statements {
                    try await transaction.execute(PostgresQuery(unsafeSQL: statement))
                }
                try await transaction.execute(
                    """
                    INSERT INTO platform.schema_migrations (scope, version, name, checksum)
                    VALUES ('platform', \(file.version), \(file.name), \(file.checksum))
                    """)
            }
        } catch {
            throw MigrationError.statementFailed(scope: "platform", version: file.version, name: file.name, message: databaseMessage(error))
        }
    }

    /// Records the tenant files' checksums centrally, refusing edited ones; tenants then only carry a version.
    private func recordTenantFiles() async throws {
        let known = try await recorded(scope: "tenant")
        try Self.verify(scope: "tenant", files: tenantFiles, recorded: known)
        for file in tenantFiles where known[file.version] == nil {
            try await database.execute(
                """
                INSERT INTO platform.schema_migrations (scope, version, name, checksum)
                VALUES ('tenant', \(file.version), \(file.name), \(file.checksum))
                """)
        }
    }

    /// Checks that the tenant files on disk are the ones recorded (used before provisioning outside `migrate`).
    public func verifyTenantFiles() async throws {
        try Self.verify(scope: "tenant", files: tenantFiles, recorded: try await recorded(scope: "tenant"))
    }

    /// Migrates one tenant in its own transaction; returns the error message, or `nil` on success.
    private func migrateTenant(id: UUID, schema: String, from version: Int) async -> String? {
        guard let schemaName = SchemaName(schema) else { return "invalid schema name \(schema)" }
        do {
            try await database.transaction(logger: logger) { transaction in
                try await TenantDatabase.scoped(transaction, TenantScope(id: id, schema: schemaName), lockTimeout: lockTimeout) { tenant in
                    try await applyTenantFiles(on: tenant, after: version)
                }
                try await transaction.execute(
                    """
                    UPDATE platform.tenants SET schema_version = \(latestTenantVersion), migration_error = NULL,
                        migration_failed_at = NULL WHERE id = \(id)
                    """)
            }
            return nil
        } catch {
            let message = (error as? MigrationError)?.description ?? databaseMessage(error)
            _ = try? await database.execute(
                "UPDATE platform.tenants SET migration_error = \(message), migration_failed_at = now() WHERE id = \(id)")
            return message
        }
    }

    /// Runs every tenant migration newer than `version` inside the caller's tenant transaction.
    func applyTenantFiles(on tenant: TenantConnection, after version: Int) async throws {
        for file in tenantFiles where file.version > version {
            for statement in file.statements {
                do {
                    try await tenant.execute(PostgresQuery(unsafeSQL: statement))
                } catch {
                    throw MigrationError.statementFailed(
                        scope: "tenant", version: file.version, name: file.name, message: databaseMessage(error))
                }
            }
        }
    }

    /// Whether the database is current: platform files all applied, no tenant behind. Used by `/readyz`.
    public func status() async throws -> (platformPending: Int, tenantsBehind: Int) {
        let applied = try await database.value(Int.self, "SELECT count(*) FROM platform.schema_migrations WHERE scope = 'platform'") ?? 0
        let behind =
            try await database.value(
                Int.self, "SELECT count(*) FROM platform.tenants WHERE schema_version < \(latestTenantVersion) AND status <> 'purged'")
            ?? 0
        return (max(0, platformFiles.count - applied), behind)
    }
}

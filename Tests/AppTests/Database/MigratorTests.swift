import Foundation
import Logging
import PostgresNIO
import Testing

@testable import App

@Suite("Migrations")
struct MigratorTests {
    func migrator(_ env: TestEnvironment, folder: String? = nil, workers: Int = 4) throws -> Migrator {
        try Migrator(
            migrationsFolder: folder ?? TestDatabase.packageRoot + "/Migrations", database: env.services.database, workers: workers,
            logger: TestDatabase.logger)
    }

    /// The platform migrations in the repository, by name.
    static var platformFiles: [String] {
        let folder = TestDatabase.packageRoot + "/Migrations/platform"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".sql") }.map { String($0.dropLast(4)) }.sorted()
    }

    @Test func freshDatabaseGetsEverythingThenASecondRunHasNothingToDo() async throws {
        try await TestEnvironment.with(migrated: false) { env in
            let first = try await migrator(env).migrate()
            #expect(first.platformApplied == Self.platformFiles)
            #expect(first.platformApplied.first == "0001_directory")
            let second = try await migrator(env).migrate()
            #expect(second.nothingToDo)
            let status = try await migrator(env).status()
            #expect(status.platformPending == 0 && status.tenantsBehind == 0)
        }
    }

    @Test func anEditedAppliedFileIsRefused() async throws {
        try await TestEnvironment.with { env in
            let folder = try TemporaryFolder()
            let migrations = try folder.copyMigrations()
            let path = migrations + "/platform/0001_directory.sql"
            try (String(contentsOfFile: path, encoding: .utf8) + "\n-- edited\n").write(toFile: path, atomically: true, encoding: .utf8)
            await #expect {
                _ = try await migrator(env, folder: migrations).migrate()
            } throws: { error in
                guard case .checksumMismatch(let scope, let version, _) = error as? MigrationError else { return false }
                return scope == "platform" && version == 1 && "\(error)".contains("was changed after it was applied")
            }
            let tenantFile = migrations + "/tenant/0001_help_centre.sql"
            try (String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\n-- edited\n", with: "")).write(
                toFile: path, atomically: true, encoding: .utf8)
            try (String(contentsOfFile: tenantFile, encoding: .utf8) + "\n").write(toFile: tenantFile, atomically: true, encoding: .utf8)
            await #expect(throws: MigrationError.self) { _ = try await migrator(env, folder: migrations).migrate() }
        }
    }

    @Test func twoMigratorsAtOnceApplyEachFileOnce() async throws {
        try await TestEnvironment.with(migrated: false) { env in
            let waited = Locked(0)
            let a = try migrator(env), b = try migrator(env)
            async let first = a.migrate { if case .waitingForLock = $0 { waited.withLock { $0 += 1 } } }
            async let second = b.migrate { if case .waitingForLock = $0 { waited.withLock { $0 += 1 } } }
            let reports = try await [first, second]
            #expect(reports.map(\.platformApplied.count).sorted() == [0, Self.platformFiles.count])
            let rows = try await env.client.query("SELECT count(*) FROM platform.schema_migrations WHERE scope = 'platform'").collect()
            #expect(try rows.first?.decode(Int.self) == Self.platformFiles.count)
        }
    }

    @Test func aNewTenantMigrationReachesEveryTenantAndAFailingOneIsReportedWhileOthersProceed() async throws {
        try await TestEnvironment.with { env in
            for slug in ["alpha", "bravo", "charlie", "delta"] { try await env.makeTenant(slug) }
            // Sabotage one tenant: it already has the table the new migration creates.
            let bravo = try await env.client.query("SELECT schema_name FROM platform.tenants WHERE slug = 'bravo'").collect().first!.decode(
                String.self)
            try await env.client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(bravo).notes (id int)"))
            let folder = try TemporaryFolder()
            let migrations = try folder.copyMigrations()
            try "CREATE TABLE notes (id bigint PRIMARY KEY, text text NOT NULL);\nALTER TABLE help_articles ADD COLUMN summary text;"
                .write(toFile: migrations + "/tenant/" + TenantMigrations.next("notes"), atomically: true, encoding: .utf8)
            let finished = Locked<[String]>([])
            let report = try await migrator(env, folder: migrations, workers: 2).migrate { event in
                if case .tenantFinished(let slug, _, _, _) = event { finished.withLock { $0.append(slug) } }
            }
            #expect(report.tenantsMigrated == 3)
            #expect(report.failures.map(\.slug) == ["bravo"])
            #expect(report.failures.first?.message.contains("already exists") == true)
            #expect(finished.withLock { $0.sorted() } == ["alpha", "bravo", "charlie", "delta"])
            let rows = try await env.client.query(
                "SELECT slug, schema_version, migration_error IS NOT NULL FROM platform.tenants ORDER BY slug"
            ).collect()
            let states = try rows.map { try $0.decode((String, Int, Bool).self) }
            #expect(states.map(\.0) == ["alpha", "bravo", "charlie", "delta"])
            let current = TenantMigrations.count
            #expect(states.map(\.1) == [current + 1, current, current + 1, current + 1])
            #expect(states.map(\.2) == [false, true, false, false])
            // The failed tenant's transaction rolled back: no half-applied column.
            let column = try await env.client.query(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = \(bravo) AND column_name = 'summary'"
            ).collect()
            #expect(try column.first?.decode(Int.self) == 0)
            // Fix the tenant and run again: only it is migrated.
            try await env.client.query(PostgresQuery(unsafeSQL: "DROP TABLE \(bravo).notes"))
            let retry = try await migrator(env, folder: migrations).migrate()
            #expect(retry.tenantsMigrated == 1 && retry.failures.isEmpty)
            // New tenants are provisioned at the newest version.
            let provisioner = TenantProvisioner(
                database: env.services.database, migrator: try migrator(env, folder: migrations), baseDomain: "vitrina.test")
            let echo = try await provisioner.provision(NewTenant(slug: "echo", name: "Echo"))
            let version = try await env.client.query("SELECT schema_version FROM platform.tenants WHERE id = \(echo.id)").collect().first!
                .decode(Int.self)
            #expect(version == TenantMigrations.count + 1)
        }
    }

    @Test func aMigrationWaitingOnALockGivesUpAfterTheLockTimeout() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("busy")
            let schema = try await env.client.query("SELECT schema_name FROM platform.tenants WHERE slug = 'busy'").collect().first!.decode(
                String.self)
            let folder = try TemporaryFolder()
            let migrations = try folder.copyMigrations()
            try "ALTER TABLE help_articles ADD COLUMN summary text;".write(
                toFile: migrations + "/tenant/" + TenantMigrations.next("summary"), atomically: true, encoding: .utf8)
            let holder = try await env.services.database.connect()
            try await holder.query("BEGIN", logger: TestDatabase.logger)
            try await holder.query(
                PostgresQuery(unsafeSQL: "LOCK TABLE \(schema).help_articles IN ACCESS EXCLUSIVE MODE"), logger: TestDatabase.logger)
            let quick = try Migrator(
                migrationsFolder: migrations, database: env.services.database, workers: 1, lockTimeout: "200ms", logger: TestDatabase.logger
            )
            let report = try await quick.migrate()
            #expect(report.failures.first?.message.contains("lock timeout") == true)
            try await holder.query("ROLLBACK", logger: TestDatabase.logger)
            try await holder.close()
        }
    }
}

import Foundation
import Logging
import PostgresNIO
import Testing

@testable import App

@Suite("The tenant door")
struct TenantDoorTests {
    @Test func theDoorRefusesAShopThatIsNotActiveUnlessTheCallerAdmitsIt() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 1))
            let active = try await env.record(scope)
            // Suspended by another process: this directory still says active, the database does not.
            try await env.provisioner.perform(.suspend, slug: "acme")
            await #expect(throws: TenantUnavailable.self) {
                try await env.services.tenants.withTenant(active) { try await env.services.articles.all(on: $0) }
            }
            // Once the directory knows, the door refuses before asking the database.
            try await env.services.directory.reload()
            let suspended = try await env.record(scope)
            #expect(suspended.status == .suspended)
            await #expect(throws: TenantUnavailable.self) { try await env.services.articles.indexPage(suspended) }
            await #expect(throws: TenantUnavailable.self) {
                try await env.services.tenants.withTenant(suspended) { try await env.services.articles.all(on: $0) }
            }
            // The operator's tools may ask for more.
            let titles = try await env.services.tenants.withTenant(suspended, readOnly: true, admitting: .activeOrSuspended) {
                try await env.services.articles.all(on: $0).map(\.title)
            }
            #expect(titles == ["[acme#1] Question 1"])
            try await env.provisioner.perform(.delete, slug: "acme")
            try await env.services.directory.reload()
            let deleted = try await env.record(scope)
            await #expect(throws: TenantUnavailable.self) {
                try await env.services.tenants.withTenant(deleted, admitting: .activeOrSuspended) { _ in }
            }
            try await env.services.tenants.withTenant(deleted, readOnly: true, admitting: .anyLive) { _ in }
        }
    }

    @Test func theDoorTagsTheLoggerWithTheTenantsID() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 2))
            let recorder = LogRecorder()
            let door = TenantDatabase(database: env.services.database, logger: recorder.logger())
            let tenant = try await env.record(scope)
            try await door.withTenant(tenant) { connection in
                connection.logger.info("inside")
                _ = try await env.services.articles.all(on: connection)
            }
            _ = try await door.read(tenant, HelpArticleStore.index(tenant))
            let id = scope.id.uuidString.lowercased()
            let inside = try #require(recorder.all.first { $0.message == "inside" })
            #expect(inside.metadata["tenant_id"] == id)
            // PostgresNIO's own events about the tenant's statements carry it too.
            #expect(recorder.all.filter { $0.metadata["tenant_id"] == id }.count > 3)
            #expect(recorder.all.contains { $0.message == "Tenant door opened" && $0.metadata["door"] == "transaction" })
        }
    }

    /// The export reads one tenant through `withTenant` (its unqualified table names would fail anywhere else), the
    /// import writes one through the scoped form; both are seen entering the door, tagged with their tenant.
    @Test func theExporterAndTheImporterGoThroughTheDoor() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 3))
            let recorder = LogRecorder()
            let database = try Database(url: env.url, poolSize: 4, logger: recorder.logger())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.client.run() }
                defer { group.cancelAll() }
                let folder = try TemporaryFolder()
                let file = folder.path + "/acme.jsonl"
                let door = TenantDatabase(database: database, logger: recorder.logger())
                let exporter = TenantExporter(tenants: door, directory: env.services.directory)
                #expect(try await exporter.export(slug: "acme", to: file)["help_articles"] == 3)
                let exported = recorder.all.filter { $0.message == "Tenant door opened" }
                #expect(exported.map(\.metadata["door"]) == ["transaction"])
                #expect(exported.first?.metadata["tenant_id"] == scope.id.uuidString.lowercased())

                let provisioner = TenantProvisioner(database: database, migrator: env.services.migrator, baseDomain: "vitrina.test")
                let importer = TenantImporter(database: database, provisioner: provisioner, migrator: env.services.migrator)
                let result = try await importer.importFile(file, slug: "copy", withDomains: false)
                #expect(result.rows["help_articles"] == 3)
                let copyID = try #require(try await env.provisioner.lookup(slug: "copy"))
                let imported = recorder.all.filter { $0.message == "Tenant door opened" && $0.metadata["door"] == "scoped" }
                #expect(imported.contains { $0.metadata["tenant_id"] == copyID.uuidString.lowercased() })
            }
        }
    }
}

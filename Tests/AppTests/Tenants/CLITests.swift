import Foundation
import PostgresNIO
import Testing

@testable import App

@Suite("The vitrina command")
struct CLITests {
    @Test func binaryIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: CLI.binary), "build it first: swift build (make test does)")
    }

    @Test func applyDryRunThenApplyThenNothingToChange() async throws {
        try await TestEnvironment.with { env in
            let folder = try TemporaryFolder()
            try folder.write(
                "t.yml",
                """
                tenants:
                  - slug: acme
                    name: Acme
                    domains: [shop.acme.test]
                    help_articles: [{slug: delivery, title: Delivery, body: "By courier."}]
                """)
            let dry = try await CLI.run(["tenants", "apply", folder.path + "/t.yml", "--dry-run"], database: env.url)
            #expect(dry.status == 0)
            #expect(dry.output.contains("+ tenant acme (Acme), domains shop.acme.test, 1 help article"))
            #expect(dry.output.contains("nothing was written"))
            let list = try await CLI.run(["tenants", "list", "--json"], database: env.url)
            #expect(list.status == 0 && list.output.contains("No tenants yet") == false)
            #expect(try await env.client.query("SELECT count(*) FROM platform.tenants").collect().first!.decode(Int.self) == 0)
            let apply = try await CLI.run(["tenants", "apply", folder.path + "/t.yml"], database: env.url)
            #expect(apply.status == 0 && apply.output.contains("Applied 1 change"))
            let again = try await CLI.run(["tenants", "apply", folder.path + "/t.yml"], database: env.url)
            #expect(again.output.contains("Nothing to change"))
            let show = try await CLI.run(["tenants", "show", "acme"], database: env.url)
            #expect(show.output.contains("Articles    1"))
            #expect(show.output.contains("acme.vitrina.test, shop.acme.test"))
        }
    }

    @Test func badInputExitsWithCodeTwoAndSaysWhere() async throws {
        try await TestEnvironment.with { env in
            let folder = try TemporaryFolder()
            try folder.write("bad.yml", "tenants:\n  - slug: acme\n    name: Acme\n    domains: [\"not a domain\"]\n")
            let bad = try await CLI.run(["tenants", "apply", folder.path + "/bad.yml"], database: env.url)
            #expect(bad.status == 2)
            #expect(bad.output.contains("bad.yml:4: tenants[0].domains[0]: 'not a domain' is not a valid domain name"))
            let unknown = try await CLI.run(["tenants", "show", "nobody"], database: env.url)
            #expect(unknown.status == 2 && unknown.output.contains("There is no tenant 'nobody'"))
            let usage = try await CLI.run(["tenants", "create", "--slug"], database: env.url)
            #expect(usage.status == 2)
            let purge = try await CLI.run(["tenants", "delete", "nobody", "--purge"], database: env.url)
            #expect(purge.status == 2 && purge.output.contains("--yes"))
            let badURL = try await CLI.run(["migrate"], database: env.url, extraEnvironment: ["DATABASE_URL": "mysql://x"])
            #expect(badURL.status == 2 && badURL.output.contains("DATABASE_URL"))
        }
    }

    @Test func migrateListsFailingTenantsAndExitsOne() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("good")
            let broken = try await env.makeTenant("broken")
            let folder = try TemporaryFolder()
            let migrations = try folder.copyMigrations()
            try folder.write("Migrations/tenant/" + TenantMigrations.next("notes"), "CREATE TABLE notes (id int);")
            try await env.client.query(PostgresQueryHelper.createNotes(in: broken.schema.value))
            for name in ["Templates", "Public"] {
                try FileManager.default.copyItem(atPath: TestDatabase.packageRoot + "/" + name, toPath: folder.path + "/" + name)
            }
            _ = migrations
            let result = try await CLI.run(["migrate"], database: env.url, extraEnvironment: ["VITRINA_RESOURCES_DIR": folder.path])
            #expect(result.status == 1)
            #expect(result.output.contains("1 tenant(s) failed"))
            #expect(result.output.contains("broken: "))
            #expect(result.output.contains("1 of 2 tenant schema(s)"))
        }
    }
}

enum PostgresQueryHelper {
    static func createNotes(in schema: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: "CREATE TABLE \(schema).notes (id int)")
    }
}

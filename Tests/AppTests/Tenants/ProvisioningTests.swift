import Foundation
import PostgresNIO
import Testing

@testable import App

@Suite("Provisioning and lifecycle")
struct ProvisioningTests {
    func schemaExists(_ env: TestEnvironment, _ schema: String) async throws -> Bool {
        try await !env.client.query("SELECT 1 FROM pg_namespace WHERE nspname = \(schema)").collect().isEmpty
    }

    @Test func provisioningCreatesSchemaTablesSeedAndDomainsInOneTransaction() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("acme", domains: ["Shop.Example.COM"])
            #expect(try await schemaExists(env, scope.schema.value))
            let settings = try await env.withTenant(scope) { tenant in
                try await tenant.value(Int.self, "SELECT count(*)::int FROM settings")
            }
            #expect(settings == 1)
            let hosts = try await env.client.query("SELECT host FROM platform.domains WHERE tenant_id = \(scope.id)").collect().map {
                try $0.decode(String.self)
            }
            #expect(hosts == ["shop.example.com"])
        }
    }

    @Test func aFailedProvisioningLeavesNothingBehind() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("first", domains: ["taken.example"])
            await #expect(throws: TenancyError.domainTaken("taken.example")) {
                try await env.provisioner.provision(NewTenant(slug: "second", name: "Second", domains: ["taken.example"]))
            }
            let tenants = try await env.client.query("SELECT count(*) FROM platform.tenants").collect().first!.decode(Int.self)
            let schemas = try await env.client.query("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%'").collect().first!
                .decode(Int.self)
            #expect(tenants == 1 && schemas == 1)
        }
    }

    @Test func badSlugsDuplicatesAndClashingSubdomainsAreRefused() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", domains: ["shop.vitrina.test"])
            await #expect(throws: TenancyError.slugTaken("acme")) { try await env.makeTenant("acme") }
            await #expect(throws: TenancyError.invalidSlug("Bad Slug")) { try await env.makeTenant("Bad Slug") }
            await #expect(throws: TenancyError.reservedSlug("admin")) { try await env.makeTenant("admin") }
            await #expect(throws: TenancyError.unknownPartner("nobody")) { try await env.makeTenant("other", partner: "nobody") }
            // "shop" would answer at shop.vitrina.test, which acme holds as a custom domain.
            await #expect(throws: TenancyError.domainTaken("shop.vitrina.test")) { try await env.makeTenant("shop") }
            // A custom domain may not be another tenant's subdomain, nor the platform's own host.
            await #expect(throws: TenancyError.domainReserved("acme.vitrina.test")) {
                try await env.makeTenant("beta", domains: ["acme.vitrina.test"])
            }
            await #expect(throws: TenancyError.domainReserved("admin.vitrina.test")) {
                try await env.makeTenant("gamma", domains: ["admin.vitrina.test"])
            }
        }
    }

    @Test func lifecycleTransitionsAreChecked() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            #expect(try await env.provisioner.perform(.suspend, slug: "acme"))
            #expect(try await !env.provisioner.perform(.suspend, slug: "acme"))
            #expect(try await env.provisioner.perform(.resume, slug: "acme"))
            #expect(try await env.provisioner.perform(.delete, slug: "acme"))
            await #expect(throws: TenancyError.invalidTransition(slug: "acme", from: .deleted, action: "suspended")) {
                try await env.provisioner.perform(.suspend, slug: "acme")
            }
            #expect(try await env.provisioner.perform(.resume, slug: "acme"))
            await #expect(throws: TenancyError.unknownTenant("nobody")) { try await env.provisioner.perform(.delete, slug: "nobody") }
        }
    }

    @Test func purgeDropsTheSchemaAndFreesTheSlugAndDomains() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("acme", domains: ["acme.example"], articles: markedArticles(tenant: "acme", count: 2))
            try await env.provisioner.perform(.delete, slug: "acme")
            #expect(try await schemaExists(env, scope.schema.value))  // soft delete keeps the data
            try await env.provisioner.purge(slug: "acme")
            #expect(try await !schemaExists(env, scope.schema.value))
            let status = try await env.client.query("SELECT status, schema_name FROM platform.tenants WHERE id = \(scope.id)").collect()
                .first!.decode((String, String?).self)
            #expect(status.0 == "purged" && status.1 == nil)
            let again = try await env.makeTenant("acme", domains: ["acme.example"])
            #expect(again.schema != scope.schema)
        }
    }

    @Test func exportThenImportReproducesTheTenantsData() async throws {
        try await TestEnvironment.with { env in
            let articles =
                markedArticles(tenant: "acme", count: 30) + [
                    HelpArticle(
                        slug: "quotes", title: "Кавычки \"и\" 'апострофы'", body: "Строка\nс переносом\n\nи \\ обратной чертой",
                        position: 99)
                ]
            try await env.makeTenant(
                "acme", domains: ["acme.example"], branding: Branding(name: "Acme", primaryColor: "#123456"), articles: articles)
            let folder = try TemporaryFolder()
            let file = folder.path + "/acme.jsonl"
            let exporter = env.services.exporter
            let counts = try await exporter.export(slug: "acme", to: file)
            // Every shop has its bot from the first minute; the bot's search index is rebuilt on import, not exported.
            #expect(counts.filter { $0.value > 0 } == ["help_articles": 31, "settings": 1, "bots": 1, "inbox_settings": 1])
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
            let header = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
            #expect(header?["format"] as? String == "vitrina.tenant-export")
            #expect((header?["tenant"] as? [String: Any])?["domains"] as? [String] == ["acme.example"])
            #expect(lines.count == 1 + 34 + 1)

            let importer = env.services.importer
            await #expect(throws: TenancyError.domainTaken("acme.example")) {
                try await importer.importFile(file, slug: "copy", withDomains: true)
            }
            let result = try await importer.importFile(file, slug: "copy", withDomains: false)
            #expect(result.rows == ["help_articles": 31, "settings": 1, "bots": 1, "inbox_settings": 1])
            let copy = try await env.client.query("SELECT id, schema_name, branding::text FROM platform.tenants WHERE slug = 'copy'")
                .collect().first!.decode((UUID, String, String).self)
            #expect(Branding.fromJSON(copy.2) == Branding(name: "Acme", primaryColor: "#123456"))
            let copied = try await env.withTenant(TenantScope(id: copy.0, schema: SchemaName(copy.1)!)) { tenant in
                let all = try await env.services.articles.all(on: tenant)
                // Identity sequences moved past the imported ids: a new row gets a fresh id.
                try await env.services.articles.upsert(HelpArticle(slug: "new-one", title: "New", body: "B", position: 100), on: tenant)
                return all
            }
            #expect(copied.map(\.slug) == articles.map(\.slug))
            #expect(copied.map(\.body) == articles.map(\.body))
            #expect(copied.last?.title == "Кавычки \"и\" 'апострофы'")

            // A truncated file is refused.
            let truncated = folder.path + "/cut.jsonl"
            try lines.dropLast().joined(separator: "\n").write(toFile: truncated, atomically: true, encoding: .utf8)
            await #expect(throws: TenancyError.self) { try await importer.importFile(truncated, slug: "cut", withDomains: false) }
        }
    }
}

@Suite("Schema drift")
struct SchemaDriftTests {
    @Test func theDriftCheckNamesWhatDiffersFromTheReference() async throws {
        try await TestEnvironment.with { env in
            let acme = try await env.makeTenant("acme")
            try await env.makeTenant("bolt")
            #expect(try await env.services.drift.check().differences.isEmpty)
            #expect(try await env.services.drift.check().checked == 2)
            try await env.client.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(acme.schema.value).help_articles ADD COLUMN extra text"))
            try await env.client.query(PostgresQuery(unsafeSQL: "DROP INDEX \(acme.schema.value).help_articles_search"))
            let report = try await env.services.drift.check()
            #expect(report.differences.map(\.slug) == ["acme"])
            let difference = try #require(report.differences.first)
            #expect(difference.unexpected == ["column help_articles.extra text"])
            #expect(difference.missing.count == 2 && difference.missing.contains("relation help_articles_search (i)"))
            #expect(difference.missing.contains { $0.hasPrefix("index CREATE INDEX help_articles_search ON help_articles USING gin") })
            // The command says the same, and exits with 1.
            let result = try await CLI.run(["tenants", "drift"], database: env.url)
            #expect(result.status == 1)
            #expect(result.output.contains("acme (") && result.output.contains("+ unexpected: column help_articles.extra text"))
            #expect(!result.output.contains("bolt ("))
        }
    }
}

import Foundation
import PostgresNIO
import Testing

@testable import App

@Suite("Applying tenants.yml")
struct ManifestApplyTests {
    static let yaml = """
        partners:
          - slug: northwind
            name: Northwind Digital
            domains: [panel.northwind.test]
            branding: {name: Northwind Assist, primary_color: "#0B5FFF"}
        tenants:
          - slug: acme
            name: Acme Tea
            partner: northwind
            domains: [tea.example]
            branding: {name: Acme Tea, primary_color: "#2E7D32"}
            help_articles:
              - {slug: delivery, title: Доставка, body: "Курьером."}
              - {slug: returns, title: Возврат, body: "14 дней."}
          - slug: sleepy
            name: Sleepy
            status: suspended
        """

    func manifest(_ yaml: String = Self.yaml) throws -> Manifest {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        return try parser.parse(yaml)
    }

    func applier(_ env: TestEnvironment) -> ManifestApplier {
        env.services.manifestApplier(file: "t.yml")
    }

    func count(_ env: TestEnvironment, _ sql: PostgresQuery) async throws -> Int {
        try await env.client.query(sql).collect().first!.decode(Int.self)
    }

    @Test func applyCreatesEverythingAndASecondRunChangesNothing() async throws {
        try await TestEnvironment.with { env in
            let first = try await applier(env).apply(try manifest(), dryRun: false)
            #expect(first.contains { $0.description == "+ partner northwind (Northwind Digital)" })
            #expect(first.contains { $0.description.hasPrefix("+ tenant acme (Acme Tea), domains tea.example, 2 help articles") })
            #expect(try await count(env, "SELECT count(*) FROM platform.tenants") == 2)
            #expect(try await count(env, "SELECT count(*) FROM platform.domains") == 2)
            #expect(try await count(env, "SELECT count(*) FROM platform.tenants WHERE slug = 'sleepy' AND status = 'suspended'") == 1)
            let second = try await applier(env).apply(try manifest(), dryRun: false)
            #expect(second.isEmpty)
        }
    }

    @Test func changesAreDetectedFieldByField() async throws {
        try await TestEnvironment.with { env in
            _ = try await applier(env).apply(try manifest(), dryRun: false)
            let edited = Self.yaml
                .replacingOccurrences(of: "\"#2E7D32\"", with: "\"#1B5E20\"")
                .replacingOccurrences(of: "14 дней.", with: "30 дней.")
                .replacingOccurrences(of: "status: suspended", with: "status: active")
                .replacingOccurrences(of: "domains: [tea.example]", with: "domains: [tea.example, shop.example]")
            let changes = try await applier(env).apply(try manifest(edited), dryRun: false).map(\.description)
            #expect(
                changes.sorted() == [
                    "+ domain shop.example → tenant acme", "~ article acme/returns", "~ tenant acme: branding",
                    "~ tenant sleepy: status suspended → active",
                ])
        }
    }

    @Test func dryRunPrintsThePlanAndWritesNothing() async throws {
        try await TestEnvironment.with { env in
            let plan = try await applier(env).apply(try manifest(), dryRun: true)
            #expect(plan.count >= 4)
            #expect(try await count(env, "SELECT count(*) FROM platform.tenants") == 0)
            #expect(try await count(env, "SELECT count(*) FROM platform.partners") == 0)
            #expect(try await count(env, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%'") == 0)
        }
    }

    @Test func aDomainHeldOutsideTheFileFailsTheWholeApply() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("squatter", domains: ["tea.example"])
            await #expect {
                _ = try await applier(env).apply(try manifest(), dryRun: false)
            } throws: { error in
                let issue = (error as? ManifestError)?.issues.first
                return issue?.path == "tenants[0]" && issue?.message.contains("tea.example") == true
            }
            // All or nothing: the partner that came first in the file was not created either.
            #expect(try await count(env, "SELECT count(*) FROM platform.partners") == 0)
        }
    }

    @Test func pruneRemovesDomainsAndArticlesTheFileNoLongerNames() async throws {
        try await TestEnvironment.with { env in
            _ = try await applier(env).apply(try manifest(), dryRun: false)
            let smaller = Self.yaml
                .replacingOccurrences(of: "domains: [tea.example]", with: "domains: []")
                .replacingOccurrences(of: "      - {slug: returns, title: Возврат, body: \"14 дней.\"}\n", with: "")
            let kept = try await applier(env).apply(try manifest(smaller), dryRun: false)
            #expect(kept.isEmpty)
            let pruned = try await applier(env).apply(try manifest(smaller), dryRun: false, prune: true).map(\.description)
            #expect(pruned.sorted() == ["- article acme/returns", "- domain tea.example from tenant acme"])
        }
    }
}

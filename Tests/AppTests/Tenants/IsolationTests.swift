import Foundation
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("Tenant isolation")
struct IsolationTests {
    @Test func twoTenantsWithTheSameIdsAndSlugsNeverSeeEachOthersRowsUnderConcurrentRequests() async throws {
        try await TestEnvironment.with { env in
            // Same article slugs, and the same identity ids (1…5) in both schemas.
            try await env.makeTenant("north", articles: markedArticles(tenant: "north", count: 5))
            try await env.makeTenant("south", articles: markedArticles(tenant: "south", count: 5))
            try await env.withApp { client throws in
                try await withThrowingTaskGroup(of: (String, String, String).self) { group in
                    for i in 0..<200 {
                        let tenant = i % 2 == 0 ? "north" : "south"
                        let path = i % 3 == 0 ? "/help/article-\(i % 5 + 1)" : (i % 3 == 1 ? "/help" : "/help?q=Answer")
                        group.addTask {
                            let response = try await client.get(path, host: "\(tenant).vitrina.test")
                            #expect(response.status == .ok)
                            return (tenant, path, response.text)
                        }
                    }
                    for try await (tenant, path, body) in group {
                        let other = tenant == "north" ? "south" : "north"
                        #expect(body.contains("[\(tenant)#") || body.contains("for \(tenant)"), "\(tenant) \(path)")
                        #expect(!body.contains("[\(other)#") && !body.contains("for \(other)"), "\(tenant) \(path) leaked \(other)")
                    }
                }
            }
        }
    }

    @Test func theDoorSeesOnlyItsTenantsRowsUnderConcurrency() async throws {
        try await TestEnvironment.with { env in
            let north = try await env.makeTenant("north", articles: markedArticles(tenant: "north", count: 3))
            let south = try await env.makeTenant("south", articles: markedArticles(tenant: "south", count: 3))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<300 {
                    let (scope, name) = i % 2 == 0 ? (north, "north") : (south, "south")
                    group.addTask {
                        let titles = try await env.withTenant(scope, readOnly: true) { tenant in
                            try await env.services.articles.all(on: tenant).map(\.title)
                        }
                        #expect(titles.count == 3)
                        #expect(titles.allSatisfy { $0.contains("[\(name)#") })
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func aQueryOutsideTheDoorFailsLoudly() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("north", articles: markedArticles(tenant: "north", count: 1))
            // Right after a tenant transaction on the same pooled connections, the path is empty again.
            _ = try await env.withTenant(scope) { tenant in try await env.services.articles.all(on: tenant) }
            for _ in 0..<5 {
                await #expect {
                    try await env.client.query("SELECT count(*) FROM help_articles").collect()
                } throws: { error in
                    databaseErrorCode(error) == "42P01"  // undefined_table
                }
            }
            let path = try await env.client.query("SELECT current_setting('search_path')").collect().first!.decode(String.self)
            #expect(path == "" || path == "\"\"")
        }
    }

    @Test func anErrorInsideTheDoorRollsBackAndLeavesNoPathBehind() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("north")
            await #expect(throws: (any Error).self) {
                try await env.withTenant(scope) { tenant in
                    try await env.services.articles.upsert(HelpArticle(slug: "a", title: "A", body: "B"), on: tenant)
                    try await tenant.execute("SELECT no_such_column FROM help_articles")
                }
            }
            let count = try await env.withTenant(scope) { tenant in
                try await tenant.value(Int.self, "SELECT count(*)::int FROM help_articles")
            }
            #expect(count == 0)
        }
    }
}

@Suite("The one-round-trip read")
struct TenantReadTests {
    @Test func readsOnlyTheScopesRowsAndLeavesNoPathBehind() async throws {
        try await TestEnvironment.with { env in
            let north = try await env.makeTenant("north", articles: markedArticles(tenant: "north", count: 3))
            let south = try await env.makeTenant("south", articles: markedArticles(tenant: "south", count: 3))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    let (scope, name) = i % 2 == 0 ? (north, "north") : (south, "south")
                    group.addTask {
                        let page = try await env.services.articles.indexPage(try await env.record(scope))
                        #expect(page.articles.map(\.title).allSatisfy { $0.contains("[\(name)#") })
                        #expect(page.articles.count == 3)
                    }
                }
                try await group.waitForAll()
            }
            let path = try await env.client.query("SELECT current_setting('search_path')").collect().first!.decode(String.self)
            #expect(path == "" || path == "\"\"")
            await #expect {
                try await env.client.query("SELECT count(*) FROM help_articles").collect()
            } throws: { databaseErrorCode($0) == "42P01" }
        }
    }

    /// Each tenant's statement is its own, schema-qualified, prepared once per connection; past the cache's size the
    /// least recently used goes, and a tenant read again is prepared again with the right schema.
    @Test func eachTenantHasItsOwnPreparedStatementAndTheCacheIsBounded() async throws {
        try await TestEnvironment.with(configure: {
            $0.databasePoolSize = 1
            $0.statementsPerConnection = 2
        }) { env in
            let scopes = try await [
                env.makeTenant("north", articles: markedArticles(tenant: "north", count: 2)),
                env.makeTenant("south", articles: markedArticles(tenant: "south", count: 3)),
                env.makeTenant("east", articles: markedArticles(tenant: "east", count: 4)),
            ]
            for round in 0..<2 {
                for (scope, (name, count)) in zip(scopes, [("north", 2), ("south", 3), ("east", 4)]) {
                    let page = try await env.services.articles.indexPage(try await env.record(scope))
                    #expect(page.articles.count == count, "round \(round), \(name)")
                    #expect(page.articles.allSatisfy { $0.title.contains("[\(name)#") })
                }
            }
            let held = try await env.services.database.withConnection { env.services.tenants.statements.count(on: $0) }
            #expect(held == 2)
            // The pool's one connection: the server holds what the cache holds (the evicted one was deallocated).
            let prepared = try await env.scalar("SELECT count(*)::int FROM pg_prepared_statements", as: Int.self)
            #expect(prepared == 2)
        }
    }
}

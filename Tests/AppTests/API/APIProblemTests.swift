import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("API: problem documents and cursor pagination")
struct APIProblemTests {
    @Test func everyErrorUnderTheAPIIsAProblemDocumentNeverAPage() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant("nshop", partner: "north")
            let key = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                let badJSON = try await api.call(.post, "/api/v1/tenants", json: #"{"name": "Acme""#)
                #expect(badJSON.isProblem("malformed-request", .badRequest))
                let wrongType = try await api.call(.post, "/api/v1/tenants", json: #"{"name": 5}"#)
                #expect(wrongType.isProblem("validation", .unprocessableContent) && wrongType.problemFields == ["name"])
                let invalid = try await api.call(
                    .post, "/api/v1/tenants", json: #"{"name": "", "slug": "Bad Slug!", "owner_email": "nope"}"#)
                #expect(invalid.isProblem("validation", .unprocessableContent))
                #expect(invalid.problemFields == ["name", "slug", "owner_email"])
                let taken = try await api.call(
                    .post, "/api/v1/tenants", json: #"{"name": "N", "slug": "nshop", "owner_email": "a@b.example"}"#)
                #expect(taken.isProblem("conflict", .conflict) && taken.problemFields == ["slug"])
                // Control characters are dropped as the forms drop them (PostgreSQL refuses NUL): never a 500.
                let nul = try await api.call(.post, "/api/v1/tenants", json: #"{"name": "Nul\u0000Shop", "owner_email": "a@b.example"}"#)
                #expect(nul.status == .created && nul.object["name"] as? String == "NulShop")
                #expect(try await api.call(.patch, "/api/v1/tenants/nshop", json: #"{"name": "\u0000"}"#).problemFields == ["name"])
                let form = try await api.call(.post, "/api/v1/tenants", json: "name=x", contentType: "application/x-www-form-urlencoded")
                #expect(form.isProblem("unsupported-media-type", .unsupportedMediaType))
                let huge = try await api.call(
                    .patch, "/api/v1/tenants/nshop", json: #"{"name": ""# + String(repeating: "a", count: 1_100_000) + #""}"#)
                #expect(huge.isProblem("payload-too-large", .contentTooLarge))

                let unknown = try await api.get("/api/v1/nothing/here")
                #expect(unknown.isProblem("not-found", .notFound))
                #expect(try await APIClient(client, token: nil).get("/api/v2/tenants").isProblem("not-found", .notFound))
                let method = try await api.call(.put, "/api/v1/tenants/nshop/suspend")
                #expect(method.isProblem("method-not-allowed", .methodNotAllowed))
                #expect(method.headers[.allow] == "POST")
                #expect(try await api.call(.post, "/api/v1/tenants/nshop").headers[.allow] == "DELETE, GET, PATCH")
                #expect(try await api.call(.post, "/api/v1/tenants/nshop/resume").status == .ok)
                #expect(try await api.call(.delete, "/api/v1/tenants/nshop").status == .noContent)
                #expect(try await api.call(.post, "/api/v1/tenants/nshop/suspend").isProblem("conflict", .conflict))

                for response in [badJSON, invalid, unknown, method] {
                    #expect(!response.text.contains("<html") && !response.text.lowercased().contains("vitrina"))
                    #expect(response.headers.allSatisfy { !$0.value.lowercased().contains("vitrina") })
                }
            }
        }
    }

    @Test func cursorsWalkEveryShopAndArticleOnceAndABadCursorIsABadRequest() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makePartner("south")
            let slugs = (1...7).map { "shop-\($0)" } + ["shop-a", "shopb", "shop-1-x"]
            for slug in slugs { try await env.makeTenant(slug, partner: "north") }
            try await env.makeTenant("elsewhere", partner: "south")
            try await env.makeTenant("blog", partner: "north", articles: markedArticles(tenant: "blog", count: 12))
            let key = try await env.partnerKey("north")
            let shopKey = try await env.tenantKey("blog")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                var seen: [String] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let response = try await api.get("/api/v1/tenants?limit=3" + (cursor.map { "&cursor=" + $0 } ?? ""))
                    #expect(response.status == .ok)
                    #expect(response.object.keys.contains("next_cursor"))
                    seen += response.items.compactMap { $0["slug"] as? String }
                    cursor = response.object["next_cursor"] as? String
                    pages += 1
                } while cursor != nil && pages < 10
                #expect(pages == 4)
                #expect(seen == (slugs + ["blog"]).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })

                let shop = APIClient(client, token: shopKey)
                var titles: [String] = []
                cursor = nil
                repeat {
                    let response = try await shop.get("/api/v1/articles?limit=5" + (cursor.map { "&cursor=" + $0 } ?? ""))
                    titles += response.items.compactMap { $0["title"] as? String }
                    #expect(response.items.allSatisfy { $0["body"] == nil })
                    cursor = response.object["next_cursor"] as? String
                } while cursor != nil && titles.count < 50
                #expect(titles == (1...12).map { "[blog#\($0)] Question \($0)" })

                for bad in ["!!!", "abc", PageRequest.encode("Not A Slug")] {
                    #expect(try await api.get("/api/v1/tenants?cursor=" + bad).isProblem("invalid-parameter", .badRequest), "\(bad)")
                }
                #expect(
                    try await shop.get("/api/v1/articles?cursor=" + PageRequest.encode("abc")).isProblem("invalid-parameter", .badRequest))
                for limit in ["0", "201", "x"] {
                    #expect(try await api.get("/api/v1/tenants?limit=" + limit).isProblem("invalid-parameter", .badRequest))
                }
                #expect(try await api.get("/api/v1/tenants?limit=200").items.count == 11)
            }
        }
    }

    @Test func aShopManagesItsArticlesThroughItsKey() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 1))
            try await env.makeTenant("bolt", articles: markedArticles(tenant: "bolt", count: 1))
            let key = try await env.tenantKey("acme")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                let created = try await api.call(.post, "/api/v1/articles", json: #"{"title": "Доставка и оплата", "body": "Курьером."}"#)
                #expect(created.status == .created && created.object["slug"] as? String == "dostavka-i-oplata")
                let id = try #require(created.object["id"] as? Int)
                #expect(created.headers[.location] == "/api/v1/articles/\(id)")
                let duplicate = try await api.call(
                    .post, "/api/v1/articles", json: #"{"title": "Again", "slug": "dostavka-i-oplata", "body": "x"}"#)
                #expect(duplicate.isProblem("conflict", .conflict) && duplicate.problemFields == ["slug"])
                let nul = try await api.call(.post, "/api/v1/articles", json: #"{"title": "T\u0000", "body": "a\u0000b"}"#)
                #expect(nul.status == .created && nul.object["body"] as? String == "ab")
                #expect(try await api.call(.delete, "/api/v1/articles/\(try #require(nul.object["id"] as? Int))").status == .noContent)
                let empty = try await api.call(.post, "/api/v1/articles", json: "{}")
                #expect(empty.problemFields == ["title", "body"])
                let patched = try await api.call(.patch, "/api/v1/articles/\(id)", json: #"{"body": "Курьером по Москве."}"#)
                #expect(
                    patched.object["body"] as? String == "Курьером по Москве." && patched.object["title"] as? String == "Доставка и оплата")
                #expect(try await client.get("/help/dostavka-i-oplata", host: "acme.vitrina.test").text.contains("Курьером по Москве."))
                #expect(try await api.call(.delete, "/api/v1/articles/\(id)").status == .noContent)
                #expect(try await api.get("/api/v1/articles/\(id)").isProblem("not-found", .notFound))
                // Only acme's articles: bolt's help centre is as it was.
                #expect(try await client.get("/help", host: "bolt.vitrina.test").text.contains("[bolt#1]"))
                #expect(try await api.get("/api/v1/articles").items.count == 1)
                #expect(try await api.get("/api/v1/articles").items.first?["title"] as? String == "[acme#1] Question 1")
                #expect(
                    try await env.scalar("SELECT count(*)::int FROM platform.audit_log WHERE action LIKE 'article.%'", as: Int.self) == 5)
            }
        }
    }

    @Test func aFailureOnOurSideIsAProblemDocumentThatShowsNothingOfTheError() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("acme")
            let key = try await env.tenantKey("acme")
            try await env.client.query(
                PostgresQuery(unsafeSQL: "DROP TABLE \(scope.schema.value).help_articles CASCADE"), logger: TestDatabase.logger)
            try await env.withApp { client throws in
                let failed = try await APIClient(client, token: key).get("/api/v1/articles")
                #expect(failed.isProblem("internal-error", .internalServerError))
                #expect((failed.object["detail"] as? String)?.contains("request id") == true)
                #expect(!failed.text.contains("help_articles") && !failed.text.contains("PSQLError"))
            }
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("API: a key reaches its own partner's or shop's data only")
struct APIIsolationTests {
    @Test func aPartnersKeyGetsNotFoundForAnotherPartnersShopExactlyAsForAMissingOne() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makePartner("south")
            try await env.makeTenant("nshop", partner: "north")
            try await env.makeTenant("sshop", partner: "south", domains: ["help.sshop.example"])
            let owner = try await env.makeUser("sam@sshop.test", role: .owner, tenant: "sshop")
            try await env.makeUser("sue@sshop.test", role: .admin, tenant: "sshop")
            let north = try await env.partnerKey("north")
            let south = try await env.partnerKey("south")
            try await env.withApp { client throws in
                let api = APIClient(client, token: north)
                let list = try await api.get("/api/v1/tenants")
                #expect(list.status == .ok)
                #expect(list.items.compactMap { $0["slug"] as? String } == ["nshop"])
                #expect(try await api.get("/api/v1/tenants/nshop").object["name"] as? String == "Nshop")

                let member = owner.id.uuidString.lowercased()
                let attempts: [(HTTPRequest.Method, String, String?)] = [
                    (.get, "/api/v1/tenants/sshop", nil),
                    (.patch, "/api/v1/tenants/sshop", #"{"name": "Hijacked"}"#),
                    (.delete, "/api/v1/tenants/sshop", nil),
                    (.post, "/api/v1/tenants/sshop/suspend", nil),
                    (.get, "/api/v1/tenants/sshop/branding", nil),
                    (.put, "/api/v1/tenants/sshop/branding", #"{"name": "Hijacked"}"#),
                    (.get, "/api/v1/tenants/sshop/members", nil),
                    (.post, "/api/v1/tenants/sshop/members", #"{"email": "evil@example.org", "role": "owner"}"#),
                    (.delete, "/api/v1/tenants/sshop/members/\(member)", nil),
                    (.get, "/api/v1/tenants/sshop/domains", nil),
                    (.post, "/api/v1/tenants/sshop/domains", #"{"host": "evil.example.org"}"#),
                    (.delete, "/api/v1/tenants/sshop/domains/help.sshop.example", nil),
                ]
                for (method, path, body) in attempts {
                    let theirs = try await api.call(method, path, json: body)
                    let missing = try await api.call(method, path.replacingOccurrences(of: "sshop", with: "nosuch"), json: body)
                    #expect(theirs.isProblem("not-found", .notFound), "\(method) \(path): \(theirs.status)")
                    // Word for word what a shop that does not exist gets, but for the slug itself.
                    #expect(
                        theirs.text.replacingOccurrences(of: "sshop", with: "X")
                            == missing.text.replacingOccurrences(of: "nosuch", with: "X"),
                        "\(method) \(path)")
                }
                // Nothing of south's shop changed, and the same calls work with south's own key.
                let own = APIClient(client, token: south)
                let shop = try await own.get("/api/v1/tenants/sshop")
                #expect(shop.status == .ok && shop.object["name"] as? String == "Sshop" && shop.object["status"] as? String == "active")
                #expect(try await own.get("/api/v1/tenants/sshop/members").items.count == 2)
                #expect(
                    try await own.get("/api/v1/tenants/sshop/domains").items.compactMap { $0["host"] as? String } == ["help.sshop.example"])
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.domains", as: Int.self) == 1)
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.outbox", as: Int.self) == 0)
            }
        }
    }

    /// 403 rather than 404: the routes are public (in the OpenAPI document) and the scope check runs before any look-up,
    /// so the refusal is the same whatever the path names and reveals nothing about what exists.
    @Test func shopKeysAndPartnerKeysAreRefusedEachOthersRoutes() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant("nshop", partner: "north", articles: markedArticles(tenant: "nshop", count: 1))
            let shopKey = try await env.tenantKey("nshop")
            let partnerKey = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let shop = APIClient(client, token: shopKey)
                for (method, path) in [
                    (HTTPRequest.Method.get, "/api/v1/tenants"), (.get, "/api/v1/tenants/nshop"), (.get, "/api/v1/tenants/nosuch"),
                    (.post, "/api/v1/tenants/nshop/suspend"), (.get, "/api/v1/branding"), (.delete, "/api/v1/tenants/nshop"),
                ] {
                    #expect(try await shop.call(method, path).isProblem("forbidden", .forbidden), "\(method) \(path)")
                }
                #expect(try await shop.get("/api/v1/articles").items.count == 1)

                let partner = APIClient(client, token: partnerKey)
                #expect(try await partner.get("/api/v1/articles").isProblem("forbidden", .forbidden))
                #expect(
                    try await partner.call(.post, "/api/v1/articles", json: #"{"title": "X", "body": "Y"}"#).isProblem(
                        "forbidden", .forbidden))
                #expect(try await partner.get("/api/v1/tenants/nshop").status == .ok)
                #expect(try await env.scalar("SELECT status FROM platform.tenants WHERE slug = 'nshop'", as: String.self) == "active")
            }
        }
    }

    @Test func aPartnerManagesItsShopsLifecycleBrandingAndTeamWithAuditEntriesNamingTheKey() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            let key = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                let created = try await api.call(
                    .post, "/api/v1/tenants", json: #"{"name": "Чайная лавка", "owner_email": "Owner@Tea.Example", "language": "en"}"#)
                #expect(created.status == .created)
                #expect(created.object["slug"] as? String == "chaynaya-lavka")
                #expect(created.headers[.location] == "/api/v1/tenants/chaynaya-lavka")
                let invite = try #require(try await env.linkInLastMail(to: "owner@tea.example"))
                #expect(invite.hasPrefix("http://chaynaya-lavka.vitrina.test/admin/invite?token="))

                let renamed = try await api.call(.patch, "/api/v1/tenants/chaynaya-lavka", json: #"{"name": "Tea Shop"}"#)
                #expect(renamed.status == .ok && renamed.object["name"] as? String == "Tea Shop")
                #expect(try await api.call(.post, "/api/v1/tenants/chaynaya-lavka/suspend").object["status"] as? String == "suspended")
                #expect(try await api.call(.post, "/api/v1/tenants/chaynaya-lavka/resume").object["status"] as? String == "active")

                let brand = try await api.call(
                    .put, "/api/v1/tenants/chaynaya-lavka/branding",
                    json: ##"{"primary_color": "#2E7D32", "support_email": "Help@Tea.Example"}"##)
                #expect(brand.status == .ok && brand.object["primary_color"] as? String == "#2e7d32")
                #expect(
                    try await api.get("/api/v1/tenants/chaynaya-lavka/branding").object["support_email"] as? String == "help@tea.example")
                let badBrand = try await api.call(
                    .put, "/api/v1/tenants/chaynaya-lavka/branding", json: #"{"primary_color": "green", "theme": "topbar", "colour": "x"}"#)
                #expect(badBrand.isProblem("validation", .unprocessableContent))
                #expect(badBrand.problemFields == ["primary_color", "theme", "colour"])
                #expect(try await api.call(.put, "/api/v1/branding", json: #"{"theme": "topbar", "powered_by": false}"#).status == .ok)
                #expect(try await api.get("/api/v1/branding").object["theme"] as? String == "topbar")

                let invited = try await api.call(
                    .post, "/api/v1/tenants/chaynaya-lavka/members", json: #"{"email": "ops@tea.example", "role": "operator"}"#)
                #expect(invited.status == .accepted)
                #expect(try await env.linkInLastMail(to: "ops@tea.example") != nil)
                let badRole = try await api.call(
                    .post, "/api/v1/tenants/chaynaya-lavka/members", json: #"{"email": "x@tea.example", "role": "platform_admin"}"#)
                #expect(badRole.isProblem("validation", .unprocessableContent) && badRole.problemFields == ["role"])

                #expect(try await api.call(.delete, "/api/v1/tenants/chaynaya-lavka").status == .noContent)
                #expect(try await api.get("/api/v1/tenants/chaynaya-lavka").object["status"] as? String == "deleted")

                let actors = try await env.client.query(
                    "SELECT DISTINCT actor_email FROM platform.audit_log WHERE action NOT LIKE 'api_key.%'", logger: TestDatabase.logger)
                var names: [String?] = []
                for try await (actor) in actors.decode(String?.self) { names.append(actor) }
                let prefix = String(key.prefix(11))
                #expect(names == ["api key north key (\(prefix))"])
                let actions = try await env.client.query(
                    "SELECT action FROM platform.audit_log WHERE action NOT LIKE 'api_key.%' ORDER BY id", logger: TestDatabase.logger)
                var list: [String] = []
                for try await (action) in actions.decode(String.self) { list.append(action) }
                #expect(
                    list == [
                        "tenant.created", "tenant.renamed", "tenant.suspended", "tenant.resumed", "branding.updated", "branding.updated",
                        "team.invited", "tenant.deleted",
                    ])
            }
        }
    }
}

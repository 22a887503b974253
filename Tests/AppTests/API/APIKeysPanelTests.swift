import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("API keys in the panels")
struct APIKeysPanelTests {
    static let password = "correct-horse-battery"

    @Test func anOwnerCreatesAKeySeesItOnceUsesItAndRevokesIt() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 2))
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            try await env.withApp { client throws in
                var owner = Browser(client, host: "acme.vitrina.test")
                try await owner.signIn("anna@acme.test", Self.password)
                let page = try await owner.get("/admin/api-keys")
                #expect(
                    page.status == .ok && page.text.contains("scope_articles_write") && page.text.contains("scope_bot_write")
                        && !page.text.contains("scope_tenants_write"))
                #expect(try await owner.get("/admin").text.contains("/admin/api-keys"))

                let noScope = try await owner.post("/admin/api-keys", ["name": "CRM"])
                #expect(noScope.status == .unprocessableContent)
                #expect(
                    try await owner.post("/admin/api-keys", ["name": "CRM", "scope_articles_read": "on"], csrf: "wrong").status
                        == .forbidden)
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.api_keys", as: Int.self) == 0)

                let created = try await owner.post("/admin/api-keys", ["name": "CRM", "scope_articles_read": "on"])
                #expect(created.status == .ok && created.headers[.cacheControl] == "no-store")
                let token = try #require(Self.token(in: created.text))
                #expect(created.text.contains("won&#39;t be shown again") || created.text.contains("больше он показан не будет"))
                #expect(try await env.scalar("SELECT scopes FROM platform.api_keys", as: [String].self) == ["articles:read"])
                let api = APIClient(client, token: token)
                #expect(try await api.get("/api/v1/articles").items.count == 2)

                let list = try await owner.get("/admin/api-keys")
                #expect(list.text.contains(String(token.prefix(11))) && Self.token(in: list.text) == nil)
                #expect(!list.text.contains(String(token.suffix(43))))

                // An operator may not manage keys.
                var op = Browser(client, host: "acme.vitrina.test")
                try await op.signIn("oleg@acme.test", Self.password)
                #expect(try await op.get("/admin/api-keys").status == .forbidden)
                let id = try #require(try await env.scalar("SELECT id FROM platform.api_keys", as: UUID.self)).uuidString.lowercased()
                try await op.get("/admin/profile")
                #expect(try await op.post("/admin/api-keys/\(id)/revoke").status == .forbidden)

                #expect(try await owner.post("/admin/api-keys/\(id)/revoke", [:], csrf: "wrong").status == .forbidden)
                #expect(try await api.get("/api/v1/articles").status == .ok)
                try await owner.get("/admin/api-keys")
                let revoked = try await owner.post("/admin/api-keys/\(id)/revoke")
                #expect(revoked.status == .seeOther && revoked.location == "/admin/api-keys")
                #expect(try await api.get("/api/v1/articles").status == .unauthorized)
                let after = try await owner.get("/admin/api-keys")
                #expect(after.text.contains("CRM") && !after.text.contains("/admin/api-keys/\(id)/revoke"))
                let actions = try await env.client.query(
                    "SELECT action || ' ' || target || ' ' || (details->>'prefix') FROM platform.audit_log WHERE action LIKE 'api_key.%' ORDER BY id",
                    logger: TestDatabase.logger)
                var lines: [String] = []
                for try await (line) in actions.decode(String.self) { lines.append(line) }
                #expect(lines == ["api_key.created CRM \(token.prefix(11))", "api_key.revoked CRM \(token.prefix(11))"])
            }
        }
    }

    @Test func aPartnersKeysArePartnerKeysAndAnotherPanelCannotRevokeThem() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.example"])
            try await env.makePartner("south", domains: ["panel.south.example"])
            try await env.makeTenant("nshop", partner: "north")
            try await env.makeUser("olivia@north.example", role: .partnerOwner, partner: "north")
            try await env.makeUser("sven@south.example", role: .partnerOwner, partner: "south")
            try await env.withApp { client throws in
                var north = Browser(client, host: "panel.north.example")
                try await north.signIn("olivia@north.example", Self.password)
                try await north.get("/admin/api-keys")
                let created = try await north.post(
                    "/admin/api-keys", ["name": "Billing", "scope_tenants_read": "on", "scope_articles_write": "on"])
                let token = try #require(Self.token(in: created.text))
                // A scope of the other kind is not offered and not stored.
                #expect(try await env.scalar("SELECT scopes FROM platform.api_keys", as: [String].self) == ["tenants:read"])
                #expect(try await APIClient(client, token: token).get("/api/v1/tenants").items.count == 1)

                var south = Browser(client, host: "panel.south.example")
                try await south.signIn("sven@south.example", Self.password)
                try await south.get("/admin/api-keys")
                let id = try #require(try await env.scalar("SELECT id FROM platform.api_keys", as: UUID.self)).uuidString.lowercased()
                #expect(try await south.post("/admin/api-keys/\(id)/revoke").status == .notFound)
                #expect(!(try await south.get("/admin/api-keys").text.contains("Billing")))
                #expect(try await APIClient(client, token: token).get("/api/v1/tenants").status == .ok)
            }
        }
    }

    /// The token in a page (the read-only field after creation).
    @Test func aRemovedAdminsKeysStopWorking() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 1))
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            let admin = try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.withApp { client throws in
                var adam = Browser(client, host: "acme.vitrina.test")
                try await adam.signIn("adam@acme.test", Self.password)
                try await adam.get("/admin/api-keys")
                let created = try await adam.post("/admin/api-keys", ["name": "Sync", "scope_articles_read": "on"])
                let token = try #require(Self.token(in: created.text))
                let api = APIClient(client, token: token)
                #expect(try await api.get("/api/v1/articles").status == .ok)
                var owner = Browser(client, host: "acme.vitrina.test")
                try await owner.signIn("anna@acme.test", Self.password)
                try await owner.get("/admin/team")
                #expect(try await owner.post("/admin/team/members/\(admin.id.uuidString.lowercased())/remove").status == .seeOther)
                #expect(try await api.get("/api/v1/articles").isProblem("unauthorized", .unauthorized))
            }
        }
    }

    static func token(in html: String) -> String? {
        guard let range = html.range(of: "value=\"ak_") else { return nil }
        return "ak_" + html[range.upperBound...].prefix { $0 != "\"" }
    }
}

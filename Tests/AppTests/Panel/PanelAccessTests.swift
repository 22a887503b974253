import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("Who reaches which panel page")
struct PanelAccessTests {
    static let password = "correct-horse-battery"

    /// Every page and action of a tenant's panel, as (method, path, form).
    static let tenantPages = [
        "/admin", "/admin/bot/try", "/admin/bot", "/admin/bot/faq", "/admin/bot/synonyms", "/admin/bot/templates", "/admin/bot/rules",
        "/admin/articles", "/admin/articles/new", "/admin/articles/1", "/admin/team", "/admin/audit",
    ]
    static func tenantActions(member: UUID) -> [(String, [String: String])] {
        [
            ("/admin/articles/new", ["title": "Hijack", "slug": "hijack", "body": "x"]),
            ("/admin/articles/1", ["title": "Hijack", "slug": "hijack", "body": "x"]),
            ("/admin/articles/1/move", ["direction": "down"]),
            ("/admin/articles/1/delete", [:]),
            ("/admin/bot/try", ["text": "Hijack"]),
            ("/admin/bot", ["name": "Hijack", "language": "auto"]),
            ("/admin/bot/faq/new", ["question": "Hijack", "answer": "x"]),
            ("/admin/bot/synonyms", ["synonyms": "hijack → x"]),
            ("/admin/bot/templates/new", ["name": "hijack", "text": "x"]),
            ("/admin/bot/rules/new", ["name": "hijack", "trigger_kind": "keywords", "trigger_text": "x", "action_kind": "handoff"]),
            ("/admin/team/invite", ["email": "evil@example.test", "role": "owner"]),
            ("/admin/team/members/\(member.uuidString.lowercased())/role", ["role": "viewer"]),
            ("/admin/team/members/\(member.uuidString.lowercased())/remove", [:]),
        ]
    }

    @Test func anOperatorOfTenantAGetsNothingOfTenantB() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 2))
            try await env.makeTenant("bolt", articles: markedArticles(tenant: "bolt", count: 2))
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            let bob = try await env.makeUser("bob@bolt.test", role: .owner, tenant: "bolt")
            try await env.withApp { client throws in
                // 1. Signing in on B's host with A's account is refused, with the answer a wrong password gets.
                var onB = Browser(client, host: "bolt.vitrina.test")
                let refused = try await onB.signIn("oleg@acme.test", Self.password)
                #expect(refused.status == .unauthorized)
                #expect(onB.session == nil)

                // 2. A's valid session cookie replayed on B's host: not signed in there.
                var onA = Browser(client, host: "acme.vitrina.test")
                try await onA.signIn("oleg@acme.test", Self.password)
                try await onA.get("/admin")
                var replay = Browser(client, host: "bolt.vitrina.test")
                replay.cookies = onA.cookies
                for path in Self.tenantPages {
                    let response = try await replay.get(path)
                    #expect(response.status == .seeOther && response.location?.hasPrefix("/admin/login") == true, "\(path)")
                    #expect(!response.text.contains("[bolt#"))
                }
                for (path, form) in Self.tenantActions(member: bob.id) {
                    #expect(try await replay.post(path, form, csrf: onA.csrf).status == .forbidden, "\(path)")
                }

                // 3. Even a session made for B's host (as if stolen or forged) gives A's operator no page of B.
                let user = try #require(try await env.services.users.find(email: "oleg@acme.test"))
                let token = try await env.services.sessions.create(
                    userID: user.id, host: "bolt.vitrina.test", address: nil, userAgent: nil, replacing: nil)
                var forged = Browser(client, host: "bolt.vitrina.test")
                forged.cookies["sid"] = token
                let csrf = try #require(
                    try await env.scalar("SELECT csrf_token FROM platform.sessions WHERE host = 'bolt.vitrina.test'", as: String.self))
                for path in Self.tenantPages {
                    let response = try await forged.get(path)
                    #expect(response.status == .forbidden, "\(path)")
                    #expect(!response.text.contains("[bolt#"))
                }
                for (path, form) in Self.tenantActions(member: bob.id) {
                    let status = try await forged.post(path, form, csrf: csrf).status
                    #expect(status == .forbidden || status == .notFound, "\(path): \(status)")
                }
                // Nothing of B changed.
                let articles = try await client.get("/help", host: "bolt.vitrina.test").text
                #expect(articles.contains("[bolt#1]") && articles.contains("[bolt#2]") && !articles.contains("Hijack"))
                let boltID = try #require(try await env.provisioner.lookup(slug: "bolt"))
                #expect(try await env.services.users.team(tenantID: boltID).count == 1)
            }
        }
    }

    @Test func tenantRolesThroughHTTP() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 2))
            try await env.makeUser("vera@acme.test", role: .viewer, tenant: "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                // (role, GET path → expected status)
                let pages: [(String, [String: HTTPResponse.Status])] = [
                    (
                        "vera@acme.test",
                        [
                            "/admin": .ok, "/admin/articles": .ok, "/admin/articles/new": .forbidden, "/admin/team": .ok,
                            "/admin/audit": .forbidden, "/admin/profile": .ok, "/admin/outbox": .notFound, "/admin/bot/try": .ok,
                            "/admin/bot/faq": .ok, "/admin/bot/faq/new": .forbidden, "/admin/bot": .forbidden, "/admin/bot/rules": .ok,
                            "/admin/bot/templates/new": .forbidden, "/admin/bot/synonyms": .ok,
                        ]
                    ),
                    (
                        "oleg@acme.test",
                        [
                            "/admin": .ok, "/admin/articles/new": .ok, "/admin/articles/1": .ok, "/admin/team": .ok,
                            "/admin/audit": .forbidden, "/admin/bot/faq/new": .ok, "/admin/bot/templates/new": .ok,
                            "/admin/bot": .forbidden,
                            "/admin/bot/rules/new": .forbidden,
                        ]
                    ),
                    (
                        "adam@acme.test",
                        [
                            "/admin/articles/new": .ok, "/admin/team": .ok, "/admin/audit": .ok, "/admin/bot": .ok,
                            "/admin/bot/rules/new": .ok,
                        ]
                    ),
                    ("anna@acme.test", ["/admin/articles/new": .ok, "/admin/team": .ok, "/admin/audit": .ok, "/admin/bot": .ok]),
                ]
                for (email, expected) in pages {
                    var browser = Browser(client, host: "acme.vitrina.test")
                    try await browser.signIn(email, Self.password)
                    for (path, status) in expected {
                        #expect(try await browser.get(path).status == status, "\(email) GET \(path)")
                    }
                }
                // Actions.
                var viewer = Browser(client, host: "acme.vitrina.test")
                try await viewer.signIn("vera@acme.test", Self.password)
                try await viewer.get("/admin")
                #expect(try await viewer.post("/admin/articles/new", ["title": "T", "slug": "t", "body": "B"]).status == .forbidden)
                #expect(try await viewer.post("/admin/team/invite", ["email": "x@acme.test", "role": "viewer"]).status == .forbidden)

                var operatorBrowser = Browser(client, host: "acme.vitrina.test")
                try await operatorBrowser.signIn("oleg@acme.test", Self.password)
                try await operatorBrowser.get("/admin")
                #expect(
                    try await operatorBrowser.post("/admin/articles/new", ["title": "T", "slug": "t", "body": "B"]).status == .seeOther)
                #expect(
                    try await operatorBrowser.post("/admin/team/invite", ["email": "x@acme.test", "role": "viewer"]).status == .forbidden)

                var admin = Browser(client, host: "acme.vitrina.test")
                try await admin.signIn("adam@acme.test", Self.password)
                try await admin.get("/admin/team")
                #expect(try await admin.post("/admin/team/invite", ["email": "x@acme.test", "role": "operator"]).status == .seeOther)
                #expect(try await admin.post("/admin/team/invite", ["email": "y@acme.test", "role": "owner"]).status == .forbidden)
                let anna = try #require(try await env.services.users.find(email: "anna@acme.test"))
                let demote = try await admin.post("/admin/team/members/\(anna.id.uuidString.lowercased())/role", ["role": "viewer"])
                #expect(demote.status == .forbidden)
            }
        }
    }

    @Test func theLastOwnerCannotBeRemovedOrDemoted() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            let anna = try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            let olga = try await env.makeUser("olga@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("anna@acme.test", Self.password)
                try await browser.get("/admin/team")
                #expect(
                    try await browser.post("/admin/team/members/\(olga.id.uuidString.lowercased())/role", ["role": "admin"]).status
                        == .seeOther)
                let changed = try await browser.get("/admin/team")
                #expect(changed.text.contains("Роль изменена."))
                // anna is now the only owner: olga (an admin) cannot remove her, and she cannot be demoted by anyone.
                let tenantID = try #require(try await env.provisioner.lookup(slug: "acme"))
                await #expect(throws: IdentityError.lastOwner) {
                    try await env.services.users.removeMember(userID: anna.id, tenantID: tenantID)
                }
                await #expect(throws: IdentityError.lastOwner) {
                    try await env.services.users.changeRole(
                        userID: anna.id, tenantID: tenantID, to: .admin)
                }
                var olgaBrowser = Browser(client, host: "acme.vitrina.test")
                try await olgaBrowser.signIn("olga@acme.test", Self.password)
                try await olgaBrowser.get("/admin/team")
                #expect(try await olgaBrowser.post("/admin/team/members/\(anna.id.uuidString.lowercased())/remove").status == .forbidden)
                let team = try await env.services.users.team(tenantID: tenantID)
                #expect(team.first { $0.email == "anna@acme.test" }?.role == .owner)
            }
        }
    }

    @Test func aPartnerOpensItsTenantsPanelsThroughAOneTimeHandOffAndNeverAnotherPartners() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.test"])
            try await env.makePartner("south", domains: ["panel.south.test"])
            try await env.makeTenant("acme", partner: "north", articles: markedArticles(tenant: "acme", count: 3))
            try await env.makeTenant("bolt", partner: "south")
            try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
            try await env.services.directory.reload()
            try await env.withApp { client throws in
                var partner = Browser(client, host: "panel.north.test")
                #expect(try await partner.signIn("olivia@north.test", Self.password).status == .seeOther)
                let list = try await partner.get("/admin")
                #expect(list.status == .ok)
                #expect(list.text.contains("Acme") && !list.text.contains("Bolt"))
                #expect(list.text.contains(">3<"))
                // The form's redirect to the tenant's host is allowed by this page's CSP, and only that one.
                let policy = try #require(list.headers[.contentSecurityPolicy])
                #expect(policy.contains("form-action 'self' http://acme.vitrina.test;"))
                #expect(list.headers[HTTPField.Name("X-Form-Action-Origins")!] == nil)
                let open = try await partner.post("/admin/tenants/acme/open")
                #expect(open.status == .seeOther)
                let location = try #require(open.location)
                #expect(location.hasPrefix("http://acme.vitrina.test/admin/handoff?token="))
                #expect(try await partner.post("/admin/tenants/bolt/open").status == .notFound)

                var tenant = Browser(client, host: "acme.vitrina.test")
                #expect(tenant.session == nil)
                let path = try TokenTests.path(of: location)
                let landed = try await tenant.get(path)
                #expect(landed.status == .seeOther && landed.location == "/admin")
                let dashboard = try await tenant.get("/admin")
                #expect(dashboard.status == .ok)
                #expect(dashboard.text.contains("Владелец агентства"))
                // Single use.
                var second = Browser(client, host: "acme.vitrina.test")
                #expect(try await second.get(path).status == .forbidden)
                // The partner's staff manage the tenant like its owner.
                try await tenant.get("/admin/team")
                #expect(try await tenant.post("/admin/team/invite", ["email": "new@acme.test", "role": "owner"]).status == .seeOther)
                // The tenant's host does not honour the partner panel's cookie.
                var crossed = Browser(client, host: "acme.vitrina.test")
                crossed.cookies = partner.cookies
                #expect(try await crossed.get("/admin").status == .seeOther)
                // An expired hand-off does not sign anyone in.
                let stale = try await partner.post("/admin/tenants/acme/open")
                try await env.client.query(
                    "UPDATE platform.one_time_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'handoff'",
                    logger: TestDatabase.logger)
                var late = Browser(client, host: "acme.vitrina.test")
                #expect(try await late.get(try TokenTests.path(of: try #require(stale.location))).status == .forbidden)
            }
        }
    }

    @Test func thePlatformPanelSuspendsAndResumesAndShowsTheOutbox() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.test"])
            try await env.makeTenant("acme", partner: "north")
            try await env.makeUser("root@platform.test", role: .platformAdmin)
            try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
            try await env.services.directory.reload()
            try await env.withApp { client throws in
                var partner = Browser(client, host: "panel.north.test")
                try await partner.signIn("olivia@north.test", Self.password)
                try await partner.get("/admin")
                // A partner suspends and resumes its own shops (the platform's outbox stays the platform's).
                #expect(try await partner.post("/admin/tenants/acme/suspend").status == .seeOther)
                try await partner.get("/admin")
                #expect(try await partner.post("/admin/tenants/acme/resume").status == .seeOther)
                try await partner.get("/admin")
                #expect(try await partner.get("/admin/outbox").status == .notFound)

                var root = Browser(client, host: "vitrina.test")
                #expect(try await root.signIn("root@platform.test", Self.password).status == .seeOther)
                let overview = try await root.get("/admin")
                #expect(overview.status == .ok && overview.text.contains("North") && overview.text.contains("Acme"))
                #expect(try await root.post("/admin/tenants/acme/suspend").status == .seeOther)
                #expect(try await client.get("/help", host: "acme.vitrina.test").status == .serviceUnavailable)
                try await root.get("/admin")
                #expect(try await root.post("/admin/tenants/acme/resume").status == .seeOther)
                #expect(try await client.get("/help", host: "acme.vitrina.test").status == .ok)
                let audit = try await root.get("/admin/audit?action=tenant")
                #expect(audit.text.contains("Магазин приостановлен") && audit.text.contains("Магазин возобновлён"))
                #expect(!audit.text.contains("Вход в панель"))

                try await partner.get("/admin/forgot")
                try await partner.post("/admin/forgot", ["email": "olivia@north.test"])
                let outbox = try await root.get("/admin/outbox")
                #expect(outbox.text.contains("olivia@north.test"))
                #expect(outbox.text.contains("Только в журнале"))
                let id = try #require(try await env.scalar("SELECT id::int FROM platform.outbox LIMIT 1", as: Int.self))
                let message = try await root.get("/admin/outbox/\(id)")
                #expect(message.status == .ok && message.text.contains("/admin/reset?token="))
                let html = try await root.get("/admin/outbox/\(id)/html")
                #expect(html.status == .ok)
                #expect(html.headers[.contentSecurityPolicy]?.hasPrefix("sandbox") == true)
            }
        }
    }
}

extension PanelAccessTests {
    @Test func aPartnerCreatesAShopAndItsOwnerIsInvitedInOneStep() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner(
                "north", domains: ["panel.north.test"], branding: Branding(name: "North Assist", primaryColor: "#0b5fff"))
            try await env.makePartner("south", domains: ["panel.south.test"])
            try await env.makeTenant("bolt", partner: "south")
            try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
            try await env.makeUser("viktor@north.test", role: .viewer, tenant: "bolt")
            try await env.services.directory.reload()
            try await env.withApp { client throws in
                var partner = Browser(client, host: "panel.north.test")
                try await partner.signIn("olivia@north.test", Self.password)
                #expect(try await partner.get("/admin").text.contains("/admin/tenants/new"))
                #expect(try await partner.get("/admin/tenants/new").status == .ok)
                // Bad input comes back with the errors and what was typed; nothing is created.
                let bad = try await partner.post(
                    "/admin/tenants/new", ["name": "Чайная лавка", "slug": "admin", "email": "not-an-address"])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.text.contains("value=\"Чайная лавка\"") && bad.text.contains("Этот адрес зарезервирован"))
                let taken = try await partner.post("/admin/tenants/new", ["name": "Bolt", "slug": "bolt", "email": "x@bolt.test"])
                #expect(taken.status == .unprocessableContent && taken.text.contains("уже занят"))
                #expect(try await env.provisioner.lookup(slug: "admin") == nil)

                let created = try await partner.post(
                    "/admin/tenants/new", ["name": "Чайная лавка", "slug": "", "email": "Owner@Lavka.test", "language": "ru"])
                #expect(created.status == .seeOther)
                let list = try await partner.get("/admin")
                #expect(list.text.contains("Чайная лавка") && list.text.contains("owner@lavka.test"))
                let tenantID = try #require(try await env.provisioner.lookup(slug: "chaynaya-lavka"))
                #expect(
                    try await env.scalar("SELECT partner_id IS NOT NULL FROM platform.tenants WHERE id = \(tenantID)", as: Bool.self)
                        == true)
                let mail = try #require(
                    try await env.scalar("SELECT html_body FROM platform.outbox WHERE to_address = 'owner@lavka.test'", as: String.self))
                #expect(mail.contains("#0b5fff") && mail.contains("Чайная лавка"))
                // The owner accepts on the new shop's own host and lands in its panel.
                let link = try #require(try await env.linkInLastMail(to: "owner@lavka.test"))
                #expect(link.hasPrefix("http://chaynaya-lavka.vitrina.test/admin/invite?token="))
                var owner = Browser(client, host: "chaynaya-lavka.vitrina.test")
                try await owner.get(try TokenTests.path(of: link))
                let token = String(link.split(separator: "=").last!)
                let accepted = try await owner.post(
                    "/admin/invite", ["token": token, "name": "Лена", "password": "tea-house-2026", "confirm": "tea-house-2026"])
                #expect(accepted.status == .seeOther)
                #expect(try await owner.get("/admin").text.contains("Владелец"))

                // Another partner's shop cannot be touched; a viewer cannot create shops anywhere.
                #expect(try await partner.post("/admin/tenants/bolt/suspend").status == .notFound)
                var viewer = Browser(client, host: "bolt.vitrina.test")
                try await viewer.signIn("viktor@north.test", Self.password)
                #expect(try await viewer.get("/admin/tenants/new").status == .notFound)
                let audit = try await partner.get("/admin/audit")
                #expect(audit.text.contains("Создан магазин"))
            }
        }
    }
}

extension PanelAccessTests {
    @Test func supportSignInNeedsAReasonShowsABannerIsAuditedAndEnds() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.test"])
            try await env.makePartner("south", domains: ["panel.south.test"])
            try await env.makeTenant("acme", partner: "north", articles: markedArticles(tenant: "acme", count: 1))
            try await env.makeTenant("bolt", partner: "south")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
            try await env.services.directory.reload()
            try await env.withApp { client throws in
                var partner = Browser(client, host: "panel.north.test")
                try await partner.signIn("olivia@north.test", Self.password)
                try await partner.get("/admin")
                #expect(try await partner.post("/admin/tenants/acme/support", ["reason": "  "]).status == .seeOther)
                #expect(try await partner.get("/admin").text.contains("Укажите причину"))
                #expect(try await partner.post("/admin/tenants/bolt/support", ["reason": "x"]).status == .notFound)
                let started = try await partner.post("/admin/tenants/acme/support", ["reason": "Ticket 42: menu setup"])
                let location = try #require(started.location)
                #expect(location.hasPrefix("http://acme.vitrina.test/admin/handoff?token="))

                var shop = Browser(client, host: "acme.vitrina.test")
                #expect(try await shop.get(try TokenTests.path(of: location)).status == .seeOther)
                let page = try await shop.get("/admin/articles")
                #expect(page.status == .ok && page.text.contains("support-banner"))
                #expect(
                    page.text.contains("olivia@north.test") && page.text.contains("anna@acme.test")
                        && page.text.contains("Ticket 42: menu setup"))
                // What support does is written down as support.
                try await shop.get("/admin/articles/new")
                #expect(
                    try await shop.post("/admin/articles/new", ["title": "Menu", "slug": "menu", "body": "Set up."]).status == .seeOther)
                let audit = try await env.scalar(
                    "SELECT actor_email || '|' || (details->>'support') FROM platform.audit_log WHERE action = 'article.created'",
                    as: String.self)
                #expect(audit == "olivia@north.test → anna@acme.test|Ticket 42: menu setup")
                #expect(
                    try await env.scalar("SELECT count(*)::int FROM platform.audit_log WHERE action LIKE 'support.%'", as: Int.self) == 2)
                // A time limit of 30 minutes, then the session is over.
                let minutes = try #require(
                    try await env.scalar(
                        "SELECT extract(epoch FROM expires_at - now())::int / 60 FROM platform.sessions WHERE impersonator_id IS NOT NULL",
                        as: Int.self))
                #expect((28...30).contains(minutes))
                try await env.client.query(
                    "UPDATE platform.sessions SET expires_at = now() - interval '1 second' WHERE impersonator_id IS NOT NULL",
                    logger: TestDatabase.logger)
                #expect(try await shop.get("/admin").status == .seeOther)
            }
        }
    }
}

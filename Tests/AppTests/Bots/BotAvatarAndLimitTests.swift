import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("A bot's picture, and the plan's bots limit in the panel and the API")
struct BotAvatarAndLimitTests {
    /// Allows `bots` bots on the shop's plan.
    static func limitBots(_ env: TestEnvironment, _ tenant: TenantRecord, to bots: Int) async throws {
        try await env.services.database.execute(
            """
            WITH p AS (INSERT INTO platform.plans (id, slug, name, max_bots) VALUES (gen_random_uuid(), \("bots-\(bots)"), 'P', \(bots))
                RETURNING id)
            UPDATE platform.tenants SET plan_id = (SELECT id FROM p) WHERE id = \(tenant.id)
            """)
    }

    @Test func anUploadedPictureIsShownServedAndRemovableAndANonImageIsRefused() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", BotSettingsPageTests.password)
                try await browser.get("/admin/bot")
                let png = BrandUploadTests.png(width: 8, height: 8)
                let saved = try await browser.postMultipart(
                    "/admin/bot", BotSettingsPageTests.valid, files: ["avatar_file": ("me.png", "image/png", png)])
                #expect(saved.status == .seeOther)
                let bot = try #require(try await env.services.tenants.withTenant(tenant) { try await BotStore().find(id: nil, on: $0) })
                let url = try #require(bot.avatarURL)
                #expect(url.hasPrefix("/brand-assets/") && url.hasSuffix(".png"))
                #expect(try await browser.get("/admin/bot").text.contains("src=\"\(url)\""))
                #expect(try await browser.get("/admin/bot/try").text.contains("class=\"chat-avatar\" src=\"\(url)\""))
                let served = try await browser.get(url)
                #expect(served.status == .ok && served.headers[.contentType] == "image/png")

                // Not an image: refused beside the field, the stored picture kept, the typed text kept.
                try await browser.get("/admin/bot")
                var typed = BotSettingsPageTests.valid
                typed["avatar"] = bot.avatar
                typed["name"] = "Даша"
                let refused = try await browser.postMultipart(
                    "/admin/bot", typed, files: ["avatar_file": ("me.png", "image/png", Array("<?php echo 1; ?>".utf8))])
                #expect(refused.status == .unprocessableContent && refused.text.contains("value=\"Даша\""))
                #expect(refused.text.contains("src=\"\(url)\""))
                let kept = try await env.services.tenants.withTenant(tenant) { try await BotStore().find(id: nil, on: $0) }
                #expect(kept?.avatar == bot.avatar && kept?.name == "Маша")

                typed["avatar_remove"] = "on"
                #expect(try await browser.postMultipart("/admin/bot", typed).status == .seeOther)
                let removed = try await env.services.tenants.withTenant(tenant) { try await BotStore().find(id: nil, on: $0) }
                #expect(removed?.avatar == nil && removed?.name == "Даша")
            }
        }
    }

    @Test func aShopAddsBotsUpToItsPlanThenGetsAClear409InThePanelAndTheAPI() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await Self.limitBots(env, tenant, to: 2)
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            let key = try await env.tenantKey("acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", BotSettingsPageTests.password)
                let page = try await browser.get("/admin/bot")
                #expect(page.text.contains("1 из 2 по вашему тарифу."))
                #expect(
                    try await browser.post("/admin/bot/new", ["new_slug": "Bad Slug!", "new_name": "x"]).status == .unprocessableContent)
                let added = try await browser.post("/admin/bot/new", ["new_slug": "night", "new_name": "Сова"])
                #expect(added.status == .seeOther && added.location == "/admin/bot?bot=night")
                let night = try await browser.get("/admin/bot?bot=night")
                #expect(night.text.contains("value=\"Сова\"") && night.text.contains("action=\"/admin/bot?bot=night\""))
                #expect(night.text.contains("href=\"/admin/bot?bot=assistant\""))
                let full = try await browser.post("/admin/bot/new", ["new_slug": "third", "new_name": "Третий"])
                #expect(full.status == .conflict && full.text.contains("Ваш тариф позволяет ботов: 2."))
                #expect(full.text.contains("value=\"third\""))
                #expect(try await browser.get("/admin/bot?bot=nobody").status == .notFound)

                let api = APIClient(client, token: key)
                let list = try await api.get("/api/v1/bots")
                let items = try #require(list.object["items"] as? [[String: Any]])
                #expect(items.compactMap { $0["slug"] as? String } == ["assistant", "night"])
                let over = try await api.call(.post, "/api/v1/bots", json: #"{"slug": "api-bot", "name": "API"}"#)
                #expect(over.isProblem("conflict", .conflict) && over.text.contains("The plan allows 2 bot(s)"))
                let badSlug = try await api.call(.post, "/api/v1/bots", json: #"{"slug": "-x"}"#)
                #expect(badSlug.isProblem("validation", .unprocessableContent) && badSlug.problemFields == ["slug"])
                let changed = try await api.call(.put, "/api/v1/bots/night", json: #"{"greeting": "Не спится?"}"#)
                #expect(changed.status == .ok && changed.object["greeting"] as? String == "Не спится?")
                #expect(try await api.get("/api/v1/bots/nobody").status == .notFound)
            }
            try await Self.limitBots(env, tenant, to: 3)
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                let created = try await api.call(.post, "/api/v1/bots", json: #"{"slug": "api-bot", "name": "API", "language": "en"}"#)
                #expect(created.status == .created && created.object["slug"] as? String == "api-bot")
                #expect(created.object["language"] as? String == "en" && created.object["avatar_url"] is NSNull)
                let again = try await api.call(.post, "/api/v1/bots", json: #"{"slug": "api-bot"}"#)
                #expect(again.isProblem("conflict", .conflict))
            }
            let audited = try await env.scalar("SELECT count(*)::int FROM platform.audit_log WHERE action = 'bot.created'", as: Int.self)
            #expect(audited == 2)
        }
    }
}

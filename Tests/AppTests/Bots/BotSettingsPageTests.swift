import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("The bot's settings page")
struct BotSettingsPageTests {
    static let password = "correct-horse-battery"

    static let valid: [String: String] = [
        "name": "Маша", "greeting": "Привет, {{#contact.name}}{{contact.name}}{{/contact.name}}!", "fallback": "", "language": "ru",
        "threshold": "0,4", "handoff_on_request": "on", "handoff_after_fallbacks": "3", "handoff_keywords": "жалоба, юрист",
        "timezone": "Europe/Moscow", "hours": "mon-fri 09:00-21:00\nsat 10:00-18:00", "away_message": "Мы ответим утром.",
    ]

    @Test func anAdminSavesTheSettingsAndARefusedSaveKeepsTheInput() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", Self.password)
                let form = try await browser.get("/admin/bot")
                #expect(form.status == .ok && form.text.contains("name=\"handoff_keywords\""))

                var bad = Self.valid
                bad["greeting"] = "Привет, {{customer}}"
                bad["hours"] = "mon-fri 09:00-21:00\nweekdays 10-18"
                bad["threshold"] = "2"
                let refused = try await browser.post("/admin/bot", bad)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("Этот текст нельзя использовать как шаблон."))
                #expect(refused.text.contains("Строка 2: укажите дни и часы"))
                #expect(refused.text.contains("Введите число от 0 до 1"))
                #expect(refused.text.contains("value=\"жалоба, юрист\""))
                #expect(refused.text.contains("Привет, {{customer}}"))

                #expect(try await browser.post("/admin/bot", Self.valid, csrf: "").status == .forbidden)
                let saved = try await browser.post("/admin/bot", Self.valid)
                #expect(saved.status == .seeOther && saved.location == "/admin/bot?bot=assistant")
                let again = try await browser.get("/admin/bot")
                #expect(again.text.contains("Настройки бота сохранены."))
                #expect(again.text.contains("mon-fri 09:00-21:00"))
            }
            let bot = try #require(try await env.services.tenants.withTenant(tenant) { try await BotStore().find(id: nil, on: $0) })
            #expect(bot.name == "Маша" && bot.threshold == 0.4 && bot.handoffAfterFallbacks == 3 && bot.language == .ru)
            #expect(bot.handoffKeywords.count == 2)
            #expect(bot.hours?.timezone == "Europe/Moscow" && bot.hours?.days[6]?.first == 600...1080)
            let audited = try await env.scalar(
                "SELECT count(*)::int FROM platform.audit_log WHERE action = 'bot.settings_changed'", as: Int.self)
            #expect(audited == 1)
        }
    }

    @Test func onlyAdminsAndOwnersReachTheSettings() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "acme")
            try await env.makeUser("vera@acme.test", role: .viewer, tenant: "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                for (email, status) in [
                    ("vera@acme.test", HTTPResponse.Status.forbidden), ("oleg@acme.test", .forbidden), ("anna@acme.test", .ok),
                ] {
                    var browser = Browser(client, host: "acme.vitrina.test")
                    try await browser.signIn(email, Self.password)
                    #expect(try await browser.get("/admin/bot").status == status, "\(email)")
                    #expect(try await browser.get("/admin/bot/try").status == .ok, "\(email)")
                    try await browser.get("/admin")
                    let posted = try await browser.post("/admin/bot", Self.valid).status
                    #expect(posted == (status == .ok ? .seeOther : .forbidden), "\(email)")
                }
            }
        }
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import App

@Suite("The inbox's settings, deleting a shopper's data, the widget's settings, the live stream")
struct InboxSettingsPageTests {
    @Test func anAdminSavesTheSettingsAndARefusedSaveKeepsTheInput() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            try await env.withApp { client throws in
                var operatorBrowser = Browser(client, host: "acme.vitrina.test")
                try await operatorBrowser.signIn("oleg@acme.test", InboxShop.password)
                #expect(try await operatorBrowser.get("/admin/inbox/settings").status == .forbidden)
                #expect(!(try await operatorBrowser.get("/admin/inbox").text.contains("href=\"/admin/inbox/settings\"")))

                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("anna@acme.test", InboxShop.password)
                #expect(try await browser.get("/admin/inbox").text.contains("href=\"/admin/inbox/settings\""))
                let form = try await browser.get("/admin/inbox/settings")
                #expect(form.status == .ok && form.text.contains("value=\"5\"") && form.text.contains("Создать секрет"))

                let refused = try await browser.post(
                    "/admin/inbox/settings",
                    ["target_wait_minutes": "0", "operator_capacity": "3", "retention_days": "abc", "auto_assign": "on"])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("Введите целое число минут от 1 до 1440.") && refused.text.contains("value=\"0\""))
                #expect(refused.text.contains("Введите число дней от 1 до 3650") && refused.text.contains("value=\"abc\""))

                let saved = try await browser.post(
                    "/admin/inbox/settings",
                    ["target_wait_minutes": "10", "operator_capacity": "3", "retention_days": "", "auto_assign": "on"])
                #expect(saved.status == .seeOther && saved.location == "/admin/inbox/settings")
                let again = try await browser.get("/admin/inbox/settings")
                #expect(again.text.contains("Настройки разговоров сохранены.") && again.text.contains("value=\"10\""))
            }
            let stored = try await env.services.tenants.withTenant(shop.tenant) { try await env.services.inboxSettings.read(on: $0) }
            #expect(stored == InboxSettings(targetWaitSeconds: 600, autoAssign: true, operatorCapacity: 3, retentionDays: nil))
            let audited = try await env.scalar(
                "SELECT details->>'changed' FROM platform.audit_log WHERE action = 'inbox.settings_changed'", as: String.self)
            #expect(audited == "target_wait, auto_assign, operator_capacity")
        }
    }

    @Test func theIdentitySecretIsShownOnceAndRotatingAsksForConfirmation() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            let settings = env.services.inboxSettings
            @Sendable func secret() async throws -> String? {
                try await env.services.tenants.withTenant(shop.tenant) { try await settings.identitySecret(on: $0) }
            }
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("anna@acme.test", InboxShop.password)
                try await browser.get("/admin/inbox/settings")
                let created = try await browser.post("/admin/inbox/settings/secret")
                let first = try #require(try await secret())
                #expect(created.status == .ok && created.headers[.cacheControl] == "no-store")
                #expect(created.text.contains("value=\"\(first)\"") && created.text.contains("Скопируйте секрет сейчас"))

                let later = try await browser.get("/admin/inbox/settings")
                #expect(!later.text.contains(first) && later.text.contains(SecretBox.masked(first)))
                #expect(later.text.contains("Сменить секрет"))

                let unconfirmed = try await browser.post("/admin/inbox/settings/secret")
                #expect(unconfirmed.status == .unprocessableContent && unconfirmed.text.contains("Подтвердите смену"))
                #expect(try await secret() == first)

                let rotated = try await browser.post("/admin/inbox/settings/secret", ["confirm": "on"])
                let second = try #require(try await secret())
                #expect(second != first && rotated.text.contains("value=\"\(second)\""))
                #expect(!(try await browser.get("/admin/inbox/settings").text.contains(second)))
            }
            let audited = try await env.scalar(
                "SELECT string_agg(details->>'secret', ',' ORDER BY id) FROM platform.audit_log WHERE action = 'inbox.identity_secret_rotated'",
                as: String.self)
            #expect(audited == "created,replaced")
        }
    }

    @Test func deletingAShoppersDataRemovesTheirConversations() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            try await env.withApp { client throws in
                var operatorBrowser = Browser(client, host: "acme.vitrina.test")
                try await operatorBrowser.signIn("oleg@acme.test", InboxShop.password)
                #expect(!(try await operatorBrowser.get("/admin/inbox/\(shop.waiting)").text.contains("Удалить данные покупателя")))

                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("anna@acme.test", InboxShop.password)
                let page = try await browser.get("/admin/inbox/\(shop.waiting)")
                let link = "/admin/inbox/contacts/\(shop.waitingContact)/delete?conversation=\(shop.waiting)"
                #expect(page.text.contains("href=\"\(link)\"") && page.text.contains("Удалить данные покупателя"))
                let confirm = try await browser.get(link)
                #expect(confirm.status == .ok && confirm.text.contains("Мария Петрова") && confirm.text.contains("Удалить навсегда"))
                #expect(confirm.text.contains("href=\"/admin/inbox/\(shop.waiting)\""))

                let deleted = try await browser.post("/admin/inbox/contacts/\(shop.waitingContact)/delete")
                #expect(deleted.status == .seeOther && deleted.location == "/admin/inbox")
                #expect(try await browser.get("/admin/inbox").text.contains("Данные покупателя удалены."))
                #expect(try await browser.get("/admin/inbox/\(shop.waiting)").status == .notFound)
                #expect(try await browser.post("/admin/inbox/contacts/\(shop.waitingContact)/delete").status == .notFound)
            }
            let left = try await env.services.tenants.withTenant(shop.tenant) { connection in
                try await connection.value(
                    (Int, Int).self,
                    """
                    SELECT (SELECT count(*)::int FROM conversations WHERE contact_id = \(shop.waitingContact)),
                        (SELECT count(*)::int FROM conversations)
                    """)
            }
            #expect(left?.0 == 0 && left?.1 == 1)
            let audited = try await env.scalar(
                "SELECT target || ' ' || (details->>'conversations') FROM platform.audit_log WHERE action = 'inbox.contact_deleted'",
                as: String.self)
            #expect(audited == "#\(shop.waitingContact) 1")
        }
    }

    @Test func theBotSettingsSaveTheWidgetsOriginsAndRefuseABadOne() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("anna@acme.test", InboxShop.password)
                let form = try await browser.get("/admin/bot")
                #expect(form.text.contains("Виджет на сайте"))
                let embed =
                    "&lt;script src=&quot;http://acme.vitrina.test/widget.js&quot; data-bot=&quot;assistant&quot; async&gt;"
                    + "&lt;/script&gt;"
                #expect(form.text.contains(embed + "</textarea>"))
                #expect(form.text.contains("<script src=\"/static/js/copy.js?v="))

                var fields = BotSettingsPageTests.valid
                fields["widget_origins"] = "https://ok.example\nnot a site"
                fields["widget_position"] = "left"
                let refused = try await browser.post("/admin/bot", fields)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("Строка 2: «not a site» — это не адрес сайта."))
                #expect(refused.text.contains("https://ok.example\nnot a site</textarea>"))

                fields["widget_origins"] = "shop.example\nhttps://Shop.Example/\nhttp://localhost:3000\n"
                fields["prechat_name"] = "optional"
                fields["prechat_email"] = "required"
                fields["prechat_phone"] = "off"
                let saved = try await browser.post("/admin/bot", fields)
                #expect(saved.status == .seeOther)
                let again = try await browser.get("/admin/bot")
                #expect(again.text.contains("https://shop.example\nhttp://localhost:3000</textarea>"))
                #expect(again.text.contains("value=\"left\" checked"))

                fields["widget_origins"] = (1...21).map { "https://shop\($0).example" }.joined(separator: "\n")
                let tooMany = try await browser.post("/admin/bot", fields)
                #expect(tooMany.status == .unprocessableContent && tooMany.text.contains("Не больше 20 сайтов."))
            }
            let bot = try #require(try await env.services.tenants.withTenant(shop.tenant) { try await BotStore().find(id: nil, on: $0) })
            #expect(bot.widget.allowedOrigins == ["https://shop.example", "http://localhost:3000"])
            #expect(
                bot.widget.position == .left && bot.widget.name == .optional && bot.widget.email == .required && bot.widget.phone == .off)
            let changed = try await env.scalar(
                "SELECT details->>'changed' FROM platform.audit_log WHERE action = 'bot.settings_changed' ORDER BY id DESC LIMIT 1",
                as: String.self)
            #expect(changed?.contains("widget") == true)
        }
    }

    @Test func theEventStreamAnswersASignedInMemberAndSendsTheShopsEvents() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            try await env.withApp { client throws in
                let nobody = try await client.get("/admin/inbox/events", host: "acme.vitrina.test")
                #expect(nobody.status == .seeOther && nobody.location?.hasPrefix("/admin/login") == true)
            }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = http.shutdown() }
            try await env.withLiveApp { client, port in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("vera@acme.test", InboxShop.password)
                let session = try #require(browser.session)
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/admin/inbox/events")
                request.headers.add(name: "X-Forwarded-Host", value: "acme.vitrina.test")
                request.headers.add(name: "Cookie", value: "sid=\(session)")
                let engine = env.services.botEngine
                let tenant = shop.tenant
                let reading = Task { () -> (String, String) in
                    let response = try await http.execute(request, timeout: .seconds(30))
                    let type = response.headers.first(name: "Content-Type") ?? ""
                    var text = ""
                    var asked = false
                    for try await buffer in response.body {
                        text += String(buffer: buffer)
                        if text.contains("event: ready"), !asked {
                            asked = true
                            // Subscribed: a shopper's message now reaches this stream through NOTIFY.
                            Task {
                                _ = try await engine.reply(
                                    to: ShopperMessage(text: "Есть кто-нибудь?", channel: .widget, externalContactID: "visitor-1"),
                                    in: tenant)
                            }
                        }
                        if text.contains("event: message") { break }
                    }
                    return (type, text)
                }
                let timer = Task {
                    try await Task.sleep(for: .seconds(15))
                    reading.cancel()
                }
                defer { timer.cancel() }
                let (type, text) = try await reading.value
                #expect(type.hasPrefix("text/event-stream"))
                #expect(text.contains("event: ready"))
                #expect(text.contains("\"conversation\":\(shop.waiting)") && text.contains("\"url\":\"/admin/inbox/\(shop.waiting)\""))
            }
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("The bot's synonyms, templates and rules pages")
struct BotTemplatesRulesPageTests {
    static let password = "correct-horse-battery"

    @Test func anOperatorWritesTemplatesWithAPreviewAndSynonyms() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", Self.password)
                let list = try await browser.get("/admin/bot/templates")
                #expect(list.status == .ok && list.text.contains("<code>wholesale</code>"))

                try await browser.get("/admin/bot/templates/new")
                let refused = try await browser.post(
                    "/admin/bot/templates/new", ["name": "gift", "text": "Здравствуйте, {{customer}}!", "buttons": "Да"])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("Этот текст нельзя использовать как шаблон."))
                #expect(refused.text.contains("Здравствуйте, {{customer}}!"))
                #expect(refused.text.contains("value=\"gift\""))

                let text = "{{#contact.name}}{{contact.name}}, {{/contact.name}}упакуем подарок. {{bot.name}}, {{shop.name}}"
                let preview = try await browser.post(
                    "/admin/bot/templates/new", ["name": "gift", "text": text, "buttons": "Спасибо", "intent": "preview"])
                #expect(preview.status == .ok && preview.text.contains("Анна, упакуем подарок. Ассистент, Acme"))
                #expect(try await browser.post("/admin/bot/templates/new", ["name": "gift", "text": text], csrf: "").status == .forbidden)
                #expect(
                    try await browser.post("/admin/bot/templates/new", ["name": "gift", "text": text, "buttons": "Спасибо"]).status
                        == .seeOther)
                let taken = try await browser.post("/admin/bot/templates/new", ["name": "gift", "text": "x"])
                #expect(taken.status == .unprocessableContent && taken.text.contains("Шаблон с таким названием уже есть."))
                #expect(try await browser.get("/admin/bot/templates/gift").text.contains("Анна, упакуем подарок."))
                #expect(try await browser.post("/admin/bot/templates/gift", ["text": "Упакуем."]).status == .seeOther)
                #expect(try await browser.post("/admin/bot/templates/gift/delete").status == .seeOther)
                #expect(try await browser.get("/admin/bot/templates/gift").status == .notFound)

                // Synonyms: a bad line is named; a good list replaces the shop's.
                let synonyms = try await browser.get("/admin/bot/synonyms")
                #expect(
                    synonyms.status == .ok && synonyms.text.contains("посылка → доставка") && synonyms.text.contains("parcel → delivery"))
                let bad = try await browser.post("/admin/bot/synonyms", ["synonyms": "коробка → упаковка\nбез стрелки"])
                #expect(
                    bad.status == .unprocessableContent && bad.text.contains("Строка 2: напишите «слово → значение».")
                        && bad.text.contains("без стрелки"))
                #expect(
                    try await browser.post("/admin/bot/synonyms", ["synonyms": "коробка → упаковка\nкэшбэк -> бонусы"]).status == .seeOther)
            }
            let stored = try await env.services.tenants.withTenant(tenant) { try await KnowledgeStore().synonyms(on: $0) }
            #expect(Set(stored.map(\.word)) == ["коробка", "кэшбэк"])
            let audited = try await env.scalar(
                "SELECT count(*)::int FROM platform.audit_log WHERE action LIKE 'bot.template_%' OR action = 'bot.synonyms_changed'",
                as: Int.self)
            #expect(audited == 4)
        }
    }

    @Test func anAdminOrdersRulesAndAnOperatorOnlyReadsThem() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            try await env.makeUser("vera@acme.test", role: .viewer, tenant: "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.withApp { client throws in
                var reader = Browser(client, host: "acme.vitrina.test")
                try await reader.signIn("oleg@acme.test", Self.password)
                let list = try await reader.get("/admin/bot/rules")
                #expect(list.status == .ok && list.text.contains("<code>wholesale</code>") && !list.text.contains("/admin/bot/rules/new"))
                #expect(try await reader.get("/admin/bot/rules/new").status == .forbidden)
                #expect(try await reader.post("/admin/bot/rules/wholesale/delete").status == .forbidden)
                var viewer = Browser(client, host: "acme.vitrina.test")
                try await viewer.signIn("vera@acme.test", Self.password)
                #expect(try await viewer.get("/admin/bot/templates").status == .ok)
                #expect(try await viewer.get("/admin/bot/templates/new").status == .forbidden)
                #expect(try await viewer.get("/admin/bot/synonyms").status == .ok)
                #expect(try await viewer.post("/admin/bot/synonyms", ["synonyms": "a → b"]).status == .forbidden)

                var admin = Browser(client, host: "acme.vitrina.test")
                try await admin.signIn("adam@acme.test", Self.password)
                try await admin.get("/admin/bot/rules/new")
                let refused = try await admin.post(
                    "/admin/bot/rules/new",
                    [
                        "name": "gift", "position": "0", "trigger_kind": "keywords", "trigger_text": "подарок, упаковка",
                        "action_kind": "reply",
                        "action_value": "nope", "enabled": "on",
                    ])
                #expect(refused.status == .unprocessableContent && refused.text.contains("Выберите один из шаблонов ответов магазина."))
                #expect(refused.text.contains("подарок, упаковка"))
                let badRegex = try await admin.post(
                    "/admin/bot/rules/new", ["name": "re", "trigger_kind": "regex", "trigger_text": "(", "action_kind": "handoff"])
                #expect(
                    badRegex.status == .unprocessableContent && badRegex.text.contains("Бот не может прочесть это регулярное выражение"))
                let saved = try await admin.post(
                    "/admin/bot/rules/new",
                    [
                        "name": "gift", "position": "0", "trigger_kind": "keywords", "trigger_text": "подарок, упаковка",
                        "action_kind": "reply",
                        "action_value": "wholesale", "enabled": "on",
                    ])
                #expect(saved.status == .seeOther)
                let ordered = try await admin.get("/admin/bot/rules").text
                let gift = try #require(ordered.range(of: "<code>gift</code>")),
                    wholesale = try #require(ordered.range(of: "<code>wholesale</code>"))
                #expect(gift.lowerBound < wholesale.lowerBound)
                let off = try await admin.post(
                    "/admin/bot/rules/gift",
                    [
                        "position": "5", "trigger_kind": "keywords", "trigger_text": "подарок", "action_kind": "set",
                        "action_value": "segment=gift",
                    ])
                #expect(off.status == .seeOther)
                #expect(try await admin.post("/admin/bot/rules/order-number/delete").status == .seeOther)
                #expect(try await admin.get("/admin/bot/rules/order-number").status == .notFound)
            }
            let rules = try await env.services.tenants.withTenant(tenant) { try await BotConfigStore().rules(on: $0) }
            let gift = try #require(rules.first { $0.name == "gift" })
            #expect(
                !gift.enabled && gift.position == 5 && gift.trigger == .keywords(["подарок"]) && gift.action == .setField("segment", "gift")
            )
            #expect(!rules.contains { $0.name == "order-number" })
        }
    }
}

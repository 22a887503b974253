import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("The bot's FAQ pages")
struct BotFAQPageTests {
    static let password = "correct-horse-battery"

    @Test func anOperatorAddsEditsAndDeletesAnEntryAndTestsAQuestion() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", Self.password)
                let list = try await browser.get("/admin/bot/faq")
                #expect(list.status == .ok && list.text.contains("Сколько идёт доставка?"))

                // Testing a question ranks the candidates and stores nothing.
                let before = try await env.services.tenants.withTenant(tenant) {
                    try await $0.value(Int.self, "SELECT count(*)::int FROM messages")
                }
                let tested = try await browser.get("/admin/bot/faq?q=" + Browser.encode("Когда привезут заказ?"))
                #expect(tested.status == .ok)
                #expect(tested.text.contains("<code>delivery-time</code>") && tested.text.contains("Доставка занимает от 2 до 6 дней."))
                let after = try await env.services.tenants.withTenant(tenant) {
                    try await $0.value(Int.self, "SELECT count(*)::int FROM messages")
                }
                #expect(before == after)

                // A refused save keeps what was typed, with a sentence beside each field.
                try await browser.get("/admin/bot/faq/new")
                let refused = try await browser.post(
                    "/admin/bot/faq/new",
                    [
                        "question": "Есть ли <подарочная> упаковка?", "phrasings": "Упакуете в подарок", "answer": "",
                        "buttons": "Без адреса",
                    ])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("value=\"Есть ли &lt;подарочная&gt; упаковка?\""))
                #expect(refused.text.contains("Упакуете в подарок"))
                #expect(refused.text.contains("Напишите ответ (до 4000 символов)."))
                #expect(refused.text.contains("Пишите каждую кнопку как Название | /адрес"))
                #expect(try await browser.post("/admin/bot/faq/new", ["question": "X", "answer": "Y"], csrf: "").status == .forbidden)

                let saved = try await browser.post(
                    "/admin/bot/faq/new",
                    [
                        "question": "Есть ли подарочная упаковка?", "phrasings": "Упакуете в подарок\nПодарочная коробка",
                        "answer": "Да, упакуем бесплатно.", "buttons": "Подробнее | /help/gift", "enabled": "on",
                    ])
                #expect(saved.status == .seeOther && saved.location == "/admin/bot/faq")
                let entry = try #require(
                    try await env.services.tenants.withTenant(tenant) {
                        try await KnowledgeStore().faq(slug: "est-li-podarochnaya-upakovka", on: $0)
                    })
                #expect(entry.phrasings.count == 2 && entry.buttons == [LinkButton(title: "Подробнее", url: "/help/gift")] && entry.enabled)
                let id = try #require(entry.id)

                let duplicate = try await browser.post(
                    "/admin/bot/faq/new", ["question": "Снова", "slug": "returns", "answer": "x", "enabled": "on"])
                #expect(duplicate.status == .unprocessableContent && duplicate.text.contains("Такой идентификатор уже есть"))

                #expect(try await browser.get("/admin/bot/faq/\(id)").text.contains("Подробнее | /help/gift"))
                let edited = try await browser.post(
                    "/admin/bot/faq/\(id)",
                    ["question": "Есть ли подарочная упаковка?", "slug": entry.slug, "answer": "Да, за 100 ₽.", "buttons": ""])
                #expect(edited.status == .seeOther)
                let changed = try await env.services.tenants.withTenant(tenant) { try await KnowledgeStore().faq(id: id, on: $0) }
                #expect(changed?.answer == "Да, за 100 ₽." && changed?.enabled == false)

                #expect(try await browser.post("/admin/bot/faq/\(id)/delete").status == .seeOther)
                #expect(try await browser.get("/admin/bot/faq/\(id)").status == .notFound)
            }
            let audited = try await env.scalar(
                "SELECT count(*)::int FROM platform.audit_log WHERE action LIKE 'bot.faq_%'", as: Int.self)
            #expect(audited == 3)
        }
    }

    @Test func aViewerReadsTheListButCannotEdit() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "acme")
            try await env.makeUser("vera@acme.test", role: .viewer, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("vera@acme.test", Self.password)
                let list = try await browser.get("/admin/bot/faq")
                #expect(list.status == .ok && list.text.contains("Сколько идёт доставка?") && !list.text.contains("/admin/bot/faq/new"))
                #expect(try await browser.get("/admin/bot/faq/new").status == .forbidden)
                #expect(try await browser.post("/admin/bot/faq/new", ["question": "X", "answer": "Y"]).status == .forbidden)
            }
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

extension HelpersTests {
    @Suite("FAQ drafts' page: ask, approve, discard; another shop sees none")
    struct FAQDraftPanelTests {
        static func store(_ env: TestEnvironment, _ tenant: TenantRecord) async throws -> [Int] {
            try await env.services.tenants.withTenant(tenant) { connection in
                try await FAQDraftStore().replace(
                    sources: ["article:payment"],
                    with: [
                        FAQDraft.Proposed(
                            question: "Как оплатить заказ?", phrasings: ["Способы оплаты"],
                            answer: "Оплатить заказ можно банковской картой, через СБП или при получении.", source: "article:payment"),
                        FAQDraft.Proposed(
                            question: "Выставляете счёт юрлицам?", phrasings: [], answer: "Для юридических лиц выставляем счёт.",
                            source: "article:payment"),
                    ], on: connection)
                return try await connection.values(Int.self, "SELECT id::int FROM faq_drafts ORDER BY id")
            }
        }

        @Test func theShopAsksApprovesAndDiscards() async throws {
            try await TestEnvironment.with { env in
                let shop = try await InboxShop.make(env)
                let ids = try await Self.store(env, shop.tenant)
                // No worker in the app: the queued job stays queued while the test looks at it.
                try await env.withApp(configure: { $0.runWorkers = false }) { client in
                    var browser = Browser(client, host: "acme.vitrina.test")
                    try await browser.signIn("oleg@acme.test", InboxShop.password)
                    let faq = try await browser.get("/admin/bot/faq")
                    #expect(faq.text.contains("href=\"/admin/bot/faq/drafts\"") && faq.text.contains("Черновики от модели"))
                    let list = try await browser.get("/admin/bot/faq/drafts")
                    #expect(list.status == .ok)
                    #expect(list.text.contains("Как оплатить заказ?") && list.text.contains("Из статьи «Оплата»"))
                    #expect(list.text.contains("<option value=\"payment\">Оплата</option>"))

                    // Asking queues one job per source; asking again while it waits says so.
                    let asked = try await browser.post("/admin/bot/faq/drafts/new", ["from": "conversations"])
                    #expect(asked.status == .seeOther && asked.location == "/admin/bot/faq/drafts")
                    #expect(try await browser.get("/admin/bot/faq/drafts").text.contains("Модель готовит черновики"))
                    try await browser.post("/admin/bot/faq/drafts/new", ["from": "conversations"])
                    let again = try await browser.get("/admin/bot/faq/drafts")
                    #expect(again.text.contains("Черновики из этого источника уже готовятся.") && again.text.contains("в очереди"))
                    let queued = try await env.services.database.value(
                        Int.self, "SELECT count(*)::int FROM platform.jobs WHERE tenant_id = \(shop.tenant.id) AND kind = 'bot.faq_drafts'")
                    #expect(queued == 1)
                    try await browser.post("/admin/bot/faq/drafts/new", ["from": "article", "article": "nope"])
                    #expect(try await browser.get("/admin/bot/faq/drafts").text.contains("Выберите статью справки."))

                    // Approve: the entry form, prefilled; saving creates the entry and removes the draft.
                    let form = try await browser.get("/admin/bot/faq/drafts/\(ids[0])/approve")
                    #expect(
                        form.status == .ok && form.text.contains("value=\"Как оплатить заказ?\"") && form.text.contains("Способы оплаты"))
                    #expect(form.text.contains("action=\"/admin/bot/faq/drafts/\(ids[0])/approve\""))
                    let refused = try await browser.post("/admin/bot/faq/drafts/\(ids[0])/approve", ["question": "", "answer": "x"])
                    #expect(refused.status == .unprocessableContent)
                    let saved = try await browser.post(
                        "/admin/bot/faq/drafts/\(ids[0])/approve",
                        [
                            "question": "Как оплатить заказ?", "slug": "", "phrasings": "Способы оплаты\nОплата картой",
                            "answer": "Картой, через СБП или при получении.", "enabled": "on",
                        ])
                    #expect(saved.status == .seeOther)
                    let entry = try await env.services.tenants.withTenant(shop.tenant) { connection in
                        try await connection.value(
                            (String, [String]).self, "SELECT answer, phrasings FROM faq_entries WHERE question = 'Как оплатить заказ?'")
                    }
                    #expect(entry?.0 == "Картой, через СБП или при получении." && entry?.1 == ["Способы оплаты", "Оплата картой"])
                    #expect(try await browser.get("/admin/bot/faq/drafts/\(ids[0])/approve").status == .notFound)

                    let discarded = try await browser.post("/admin/bot/faq/drafts/\(ids[1])/discard")
                    #expect(discarded.status == .seeOther)
                    let after = try await browser.get("/admin/bot/faq/drafts")
                    #expect(after.text.contains("Черновик отклонён.") && after.text.contains("Черновиков нет."))
                    #expect(try await browser.post("/admin/bot/faq/drafts/\(ids[1])/discard").status == .notFound)
                    let audited = try await env.services.database.values(
                        String.self, "SELECT action FROM platform.audit_log WHERE tenant_id = \(shop.tenant.id) ORDER BY id")
                    #expect(audited.contains("bot.faq_created") && audited.contains("bot.faq_draft_discarded"))
                    #expect(audited.contains("bot.faq_drafts_requested"))

                    // A viewer may not see or act on drafts.
                    var viewer = Browser(client, host: "acme.vitrina.test")
                    try await viewer.signIn("vera@acme.test", InboxShop.password)
                    #expect(try await viewer.get("/admin/bot/faq/drafts").status == .forbidden)
                }
            }
        }

        @Test func anotherShopCannotSeeOrActOnTheDrafts() async throws {
            try await TestEnvironment.with { env in
                let shop = try await InboxShop.make(env)
                let ids = try await Self.store(env, shop.tenant)
                _ = try await makeBotShop(env, "other")
                try await env.makeUser("ivan@other.test", role: .operator, tenant: "other")
                try await env.withApp { client in
                    var other = Browser(client, host: "other.vitrina.test")
                    try await other.signIn("ivan@other.test", InboxShop.password)
                    let list = try await other.get("/admin/bot/faq/drafts")
                    #expect(list.status == .ok && !list.text.contains("Как оплатить заказ?") && list.text.contains("Черновиков нет."))
                    #expect(try await other.get("/admin/bot/faq/drafts/\(ids[0])/approve").status == .notFound)
                    #expect(try await other.post("/admin/bot/faq/drafts/\(ids[0])/discard").status == .notFound)
                    let approved = try await other.post(
                        "/admin/bot/faq/drafts/\(ids[1])/approve", ["question": "Чужой вопрос?", "answer": "Чужой ответ.", "enabled": "on"])
                    #expect(approved.status == .notFound)
                    // Their session is no key to this shop's panel either.
                    var crossing = Browser(client, host: "acme.vitrina.test")
                    crossing.cookies = other.cookies
                    #expect(try await crossing.get("/admin/bot/faq/drafts").status != .ok)
                }
                #expect(try await FAQDraftTests.drafts(env, shop.tenant).count == 2)
                let otherTenant = try #require(try await env.services.directory.tenant(slug: "other"))
                let otherEntries = try await env.services.tenants.withTenant(otherTenant) { connection in
                    try await connection.value(Int.self, "SELECT count(*)::int FROM faq_entries WHERE question = 'Чужой вопрос?'")
                }
                #expect(otherEntries == 0)
            }
        }
    }
}

import Foundation
import PostgresNIO
import Testing

@testable import App

/// A shop with a small knowledge base in Russian and English.
func makeBotShop(_ env: TestEnvironment, _ slug: String, answerSuffix: String = "", plan: Int? = nil) async throws -> TenantRecord {
    let scope = try await env.makeTenant(
        slug,
        articles: [
            HelpArticle(
                slug: "payment", title: "Оплата",
                body: "Оплатить заказ можно банковской картой, через СБП или при получении.\n\nДля юридических лиц выставляем счёт.",
                position: 1)
        ])
    try await env.withTenant(scope) { tenant in
        let store = KnowledgeStore()
        try await store.upsert(
            FAQEntry(
                slug: "delivery-time", question: "Сколько идёт доставка?", phrasings: ["Когда привезут заказ", "Сроки доставки"],
                answer: "Доставка занимает от 2 до 6 дней." + answerSuffix,
                buttons: [LinkButton(title: "О доставке", url: "/help/delivery")]), on: tenant)
        try await store.upsert(
            FAQEntry(
                slug: "returns", question: "Как вернуть товар?", phrasings: ["Возврат товара", "Можно ли сдать покупку обратно"],
                answer: "Вернуть товар можно в течение 14 дней." + answerSuffix), on: tenant)
        try await store.upsert(
            FAQEntry(
                slug: "shipping-abroad", question: "Do you ship abroad?", phrasings: ["international shipping"],
                answer: "We ship to Kazakhstan and Belarus." + answerSuffix), on: tenant)
        try await store.replaceSynonyms([Synonym(word: "посылка", means: "доставка")], on: tenant)
        let config = BotConfigStore()
        try await config.upsert(
            ResponseTemplate(
                name: "wholesale", text: "{{#contact.name}}{{contact.name}}, {{/contact.name}}опт: напишите на opt@example.ru",
                buttons: ["Спасибо"]),
            on: tenant)
        try await config.upsert(
            Rule(name: "wholesale", position: 1, trigger: .keywords(["оптом"]), action: .reply(template: "wholesale")), on: tenant)
        try await config.upsert(
            Rule(name: "order-number", position: 2, trigger: .regex("(?i)заказ\\s*№?\\s*\\d{5,}"), action: .handOff), on: tenant)
    }
    if let plan {
        try await env.services.database.execute(
            """
            WITH p AS (INSERT INTO platform.plans (id, slug, name, max_messages_per_month) VALUES (gen_random_uuid(), \(slug + "-plan"), 'P', \(plan)) RETURNING id)
            UPDATE platform.tenants SET plan_id = (SELECT id FROM p) WHERE id = \(scope.id)
            """)
    }
    return try await env.record(scope)
}

@Suite("The bot engine against a real PostgreSQL")
struct BotEngineTests {
    @Test func aNewShopHasABotThatAnswersFromItsArticles() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant(
                "plain", articles: [HelpArticle(slug: "delivery", title: "Доставка", body: "Курьер привезёт заказ за два дня по Москве.")])
            let tenant = try await env.record(scope)
            let reply = try await env.services.botEngine.reply(
                to: ShopperMessage(text: "когда курьер привезет заказ", channel: .test), in: tenant)
            let answer = try #require(reply.answer)
            #expect(answer.step == .knowledge)
            #expect(answer.entry?.slug == "delivery")
            #expect(answer.text.contains("два дня"))
            #expect(answer.parts.contains(MessagePart(type: .link, title: "Доставка", url: "/help/delivery")))
        }
    }

    @Test func everyStepAnswersAndExplainsItself() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let engine = env.services.botEngine
            func ask(_ text: String, _ conversation: Int? = nil) async throws -> BotReply {
                try await engine.reply(to: ShopperMessage(text: text, channel: .test, conversationID: conversation), in: tenant)
            }
            let greeting = try #require(try await ask("Здравствуйте!").answer)
            #expect(greeting.step == .smallTalk)
            #expect(greeting.text.contains("Ассистент"))  // the default bot's name in Russian

            let typo = try #require(try await ask("вазврат товара").answer)
            #expect(typo.step == .knowledge && typo.entry?.slug == "returns")
            let synonym = try #require(try await ask("где моя посылка, сроки?").answer)
            #expect(synonym.entry?.slug == "delivery-time")
            let phrasing = try #require(try await ask("когда привезут заказ").answer)
            #expect(phrasing.entry?.slug == "delivery-time")
            #expect(phrasing.candidates.first?.entry == "delivery-time")
            let english = try #require(try await ask("international shipping?").answer)
            #expect(english.entry?.slug == "shipping-abroad")

            let rule = try #require(try await ask("хочу купить оптом").answer)
            #expect(rule.step == .rule && rule.rule == "wholesale" && rule.parts.map(\.title) == ["Спасибо"])
            #expect(rule.text == "опт: напишите на opt@example.ru")

            let offTopic = try await ask("какая завтра погода в лондоне")
            #expect(offTopic.answer?.step == .fallback)
            #expect(offTopic.state == .bot)

            // The explanation is stored with the message.
            let asked = try await ask("сроки доставки")
            let stored = try await env.withTenant(tenant.scope) { connection in
                try await ConversationStore().messages(asked.conversationID, on: connection)
            }
            let explanation = try #require(stored.last?.explanation)
            #expect(explanation.contains("\"step\": \"knowledge\""))
            #expect(explanation.contains("delivery-time"))
            #expect(stored.map(\.author) == [.shopper, .bot])
        }
    }

    @Test func fallbacksInARowHandOffAndTheBotThenKeepsQuiet() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let engine = env.services.botEngine
            let first = try await engine.reply(to: ShopperMessage(text: "расскажи анекдот", channel: .test), in: tenant)
            #expect(first.answer?.step == .fallback)
            let second = try await engine.reply(
                to: ShopperMessage(text: "напиши стихи про луну", channel: .test, conversationID: first.conversationID), in: tenant)
            #expect(second.answer?.step == .handoff && second.answer?.handoff == .fallbacks)
            #expect(second.state == .waiting)
            let third = try await engine.reply(
                to: ShopperMessage(text: "сколько идёт доставка", channel: .test, conversationID: first.conversationID), in: tenant)
            #expect(third.answer == nil)
            #expect(third.state == .waiting)
            // An operator takes it and resolves it; the shopper's next message goes back to the bot.
            try await env.withTenant(tenant.scope) { connection in
                let store = ConversationStore()
                var conversation = try #require(try await store.lock(first.conversationID, on: connection))
                conversation.state = try await store.apply(.take(operator: UUID()), to: conversation, on: connection)
                conversation.state = try await store.apply(.resolve, to: conversation, on: connection)
                await #expect(throws: IllegalTransition.self) { try await store.apply(.release, to: conversation, on: connection) }
            }
            let back = try await engine.reply(
                to: ShopperMessage(text: "сколько идёт доставка", channel: .test, conversationID: first.conversationID), in: tenant)
            #expect(back.state == .bot && back.answer?.entry?.slug == "delivery-time")
            let events = try await env.withTenant(tenant.scope) { try await ConversationStore().events(first.conversationID, on: $0) }
            #expect(events.map(\.reason) == ["started", "fallbacks", "taken", "resolved", "shopper_returned"])
        }
    }

    @Test func handOffRequestsKeywordsAndRulesGoToPeople() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let engine = env.services.botEngine
            let asked = try await engine.reply(to: ShopperMessage(text: "позовите живого человека", channel: .test), in: tenant)
            #expect(asked.answer?.handoff == .shopperRequest && asked.state == .waiting)
            let rule = try await engine.reply(to: ShopperMessage(text: "где мой заказ № 1234567", channel: .test), in: tenant)
            #expect(rule.answer?.step == .rule && rule.answer?.handoff == .rule && rule.state == .waiting)
        }
    }

    @Test func aRedeliveredMessageIsStoredOnceAndAnsweredOnce() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let message = ShopperMessage(
                text: "сколько идёт доставка", channel: .widget, externalContactID: "visitor-1", channelMessageID: "m-1")
            let first = try await env.services.botEngine.reply(to: message, in: tenant)
            let again = try await env.services.botEngine.reply(to: message, in: tenant)
            #expect(!first.duplicate && again.duplicate && again.answer == nil)
            #expect(again.conversationID == first.conversationID)
            let count = try await env.withTenant(tenant.scope) { try await $0.value(Int.self, "SELECT count(*)::int FROM messages") }
            #expect(count == 2)
        }
    }

    @Test func overTheMonthlyQuotaConversationsGoToPeople() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea", plan: 2)
            let engine = env.services.botEngine
            for _ in 0..<2 {
                let reply = try await engine.reply(to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                #expect(reply.answer?.step == .knowledge)
            }
            let over = try await engine.reply(to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
            #expect(over.answer?.step == .quota && over.answer?.handoff == .quota && over.state == .waiting)
            let used = try await env.services.database.value(
                Int.self, "SELECT messages FROM platform.message_usage WHERE tenant_id = \(tenant.id)")
            #expect(used == 3)
            // What the dashboard shows: the month's messages against the plan's limit.
            let usage = try await env.services.plans.messageUsage(tenantID: tenant.id)
            #expect(usage.used == 3 && usage.limit == 2)
        }
    }

    @Test func twoShopsWithTheSameSlugsNeverSeeEachOther() async throws {
        try await TestEnvironment.with { env in
            let one = try await makeBotShop(env, "one", answerSuffix: " [one]")
            let two = try await makeBotShop(env, "two", answerSuffix: " [two]")
            let engine = env.services.botEngine
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    let (tenant, marker) = index % 2 == 0 ? (one, "[one]") : (two, "[two]")
                    group.addTask {
                        let reply = try await engine.reply(
                            to: ShopperMessage(text: index % 4 < 2 ? "сроки доставки" : "возврат товара", channel: .api), in: tenant)
                        #expect(reply.answer?.text.hasSuffix(marker) == true)
                    }
                }
                try await group.waitForAll()
            }
            let counts = try await [one, two].asyncMap { tenant in
                try await env.withTenant(tenant.scope) { try await $0.value(Int.self, "SELECT count(*)::int FROM conversations") }
            }
            #expect(counts == [20, 20])
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

extension HelpersTests {
    @Suite("Draft FAQ entries: the model proposes, the shop approves")
    struct FAQDraftTests {
        /// The model's entries for the "payment" article: two supported ones, and three that the checks drop (a repeat of
        /// an existing question, an answer with facts the article lacks, an empty question).
        static var articleReply: [String: Any] {
            [
                "entries": [
                    [
                        "question": "Как оплатить заказ?",
                        "phrasings": ["Способы оплаты", "как оплатить заказ", "Можно ли платить картой"],
                        "answer": "Оплатить заказ можно банковской картой, через СБП или при получении.",
                    ],
                    ["question": "Сколько идёт доставка?", "phrasings": [], "answer": "Оплатить заказ можно картой."],
                    ["question": "Есть ли рассрочка?", "answer": "Рассрочка на 12 месяцев без переплаты."],
                    ["question": "Выставляете счёт юрлицам?", "answer": "Для юридических лиц выставляем счёт."],
                    ["question": "", "answer": "Оплатить заказ можно картой."],
                ]
            ]
        }

        static func drafts(_ env: TestEnvironment, _ tenant: TenantRecord) async throws -> [FAQDraft] {
            try await env.services.tenants.withTenant(tenant) { try await FAQDraftStore().list(on: $0) }
        }

        static func request(_ env: TestEnvironment, _ tenant: TenantRecord, article: String?) async throws -> Bool {
            try await env.services.tenants.withTenant(tenant) { connection in
                try await env.services.faqDrafter.request(DraftFAQEntries(article: article), tenant: tenant, on: connection)
            }
        }

        static func job(_ env: TestEnvironment, _ tenant: TenantRecord) async throws -> (status: String, error: String?)? {
            try await env.services.database.value(
                (String, String?).self,
                "SELECT status, last_error FROM platform.jobs WHERE tenant_id = \(tenant.id) AND kind = 'bot.faq_drafts' ORDER BY id DESC LIMIT 1"
            ).map { (status: $0.0, error: $0.1) }
        }

        @Test func anArticlesDraftsAreCheckedAndStoredOncePerSource() async throws {
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "acme")
                let fake = FakeOpenAIServer.make()
                fake.queue(modelReply(Self.articleReply), modelReply(Self.articleReply))
                try await withChatServer(fake) { url, _ in
                    try await env.giveModel(tenant, url: url)
                    #expect(try await Self.request(env, tenant, article: "payment"))
                    // One run per source at a time.
                    #expect(try await !Self.request(env, tenant, article: "payment"))
                    await #expect(throws: HelperError.notFound) { try await Self.request(env, tenant, article: "no-such-article") }
                    await env.worker().runDue()
                    let drafts = try await Self.drafts(env, tenant)
                    #expect(Set(drafts.map(\.question)) == ["Как оплатить заказ?", "Выставляете счёт юрлицам?"])
                    #expect(drafts.allSatisfy { $0.source == "article:payment" })
                    #expect(
                        drafts.first { $0.question == "Как оплатить заказ?" }?.phrasings == ["Способы оплаты", "Можно ли платить картой"])
                    #expect(try await Self.job(env, tenant)?.status == "done")
                    // The article is data in the user message; the rules alone are the system message.
                    let chat = try #require(fake.requests.first).chat
                    #expect(chat.count == 2 && chat[0].role == "system" && chat[1].role == "user")
                    #expect(chat[1].content.contains("Для юридических лиц выставляем счёт.") && !chat[0].content.contains("юридических"))
                    #expect(chat[0].content.contains("must come from the SOURCE text only"))
                    let usage = try await env.tokenUsage(tenant)
                    #expect(usage.tokens == 29 && usage.calls == 1)

                    // A second run replaces the source's waiting drafts instead of adding to them.
                    #expect(try await Self.request(env, tenant, article: "payment"))
                    await env.worker().runDue()
                    #expect(try await Self.drafts(env, tenant).count == 2)
                }
            }
        }

        @Test func aMalformedReplyStoresNothingAndTheJobSaysWhy() async throws {
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "acme")
                let fake = FakeOpenAIServer.make()
                fake.queue(.reply(200, FakeOpenAIServer.completion("Вот вопросы: 1. Как оплатить? — Картой.")))
                try await withChatServer(fake) { url, _ in
                    try await env.giveModel(tenant, url: url)
                    #expect(try await Self.request(env, tenant, article: "payment"))
                    await env.worker().runDue()
                    #expect(try await Self.drafts(env, tenant).isEmpty)
                    let job = try #require(try await Self.job(env, tenant))
                    #expect(job.status == "failed")
                    #expect(job.error?.contains("The model's reply could not be used: it was not the JSON object asked for") == true)
                    #expect(fake.requests.count == 1)
                }
            }
        }

        @Test func withoutAModelTheJobFailsWithoutAsking() async throws {
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "acme")
                #expect(try await Self.request(env, tenant, article: "payment"))
                await env.worker().runDue()
                let job = try #require(try await Self.job(env, tenant))
                #expect(job.status == "failed" && job.error?.contains("no language model") == true)
            }
        }

        /// From conversations people resolved: only the texts leave, with e-mails, phones and the people's names masked;
        /// the draft names the conversation its answer comes from.
        @Test func conversationsAreSentMaskedAndTheirDraftsNameTheConversation() async throws {
            try await TestEnvironment.with { env in
                let shop = try await InboxShop.make(env)
                try await env.services.database.execute("UPDATE platform.users SET name = 'Олег Смирнов' WHERE id = \(shop.oleg.id)")
                _ = try await env.services.botEngine.reply(
                    to: ShopperMessage(
                        text: "Меня зовут Мария Петрова, почта maria.petrova@example.com, телефон +7 (916) 123-45-67. Хочу вернуть куртку.",
                        channel: .widget, externalContactID: "visitor-1"),
                    in: shop.tenant)
                let actions = InboxActions(tenants: env.services.tenants)
                try await actions.perform(
                    .reply(
                        "Мария, это Олег. Вернуть товар можно в течение 14 дней: оформите возврат в личном кабинете, вопросы на help@acme.example."
                    ),
                    conversation: shop.waiting, user: shop.oleg.id, in: shop.tenant)
                try await actions.perform(.resolve, conversation: shop.waiting, user: shop.oleg.id, in: shop.tenant)
                let reply: [String: Any] = [
                    "entries": [
                        [
                            "question": "Как вернуть куртку?", "phrasings": ["Возврат одежды"],
                            "answer": "Вернуть товар можно в течение 14 дней: оформите возврат в личном кабинете.", "source": "c1",
                        ]
                    ]
                ]
                let fake = FakeOpenAIServer.make()
                fake.queue(modelReply(reply))
                try await withChatServer(fake) { url, _ in
                    try await env.giveModel(shop.tenant, url: url)
                    #expect(try await Self.request(env, shop.tenant, article: nil))
                    await env.worker().runDue()
                    let sent = try #require(fake.requests.first).chat.map(\.content).joined(separator: "\n")
                    for secret in ["maria.petrova@example.com", "help@acme.example", "916", "123-45-67", "Мария", "Петрова", "Олег"] {
                        #expect(!sent.contains(secret), "\(secret) left for the model")
                    }
                    #expect(sent.contains("[e-mail]") && sent.contains("[phone]") && sent.contains("[name]"))
                    #expect(sent.contains("Хочу вернуть куртку") && sent.contains("оформите возврат в личном кабинете"))
                    // Only the shopper's and the operators' texts: the bot's hand-off message stays out.
                    #expect(sent.contains("позовите оператора") && !sent.contains("Передаю разговор оператору"))
                    let drafts = try await Self.drafts(env, shop.tenant)
                    #expect(drafts.map(\.source) == ["conversation:\(shop.waiting)"])
                    #expect(drafts.first?.question == "Как вернуть куртку?")
                    #expect(try await Self.job(env, shop.tenant)?.status == "done")
                }
            }
        }

        @Test func personalDataIsMasked() {
            let masked = PersonalData.mask(
                "Пишите на Ivan.Petrov+shop@mail.example.ru или звоните 8 916 123 45 67, заказ 123456 от 12.03.2025; Иван Петров",
                names: ["Иван Петров"])
            #expect(masked == "Пишите на [e-mail] или звоните [phone], заказ 123456 от 12.03.2025; [name]")
            #expect(PersonalData.mask("ИВАН, привет, Иванов", names: ["Иван"]) == "[name], привет, Иванов")
        }

        @Test func anAnswerMustComeFromItsSource() throws {
            let article = DraftSource(
                kind: .article(slug: "payment", title: "Оплата", body: "Оплатить заказ можно картой или через СБП за 5 минут."))
            #expect(FAQDraftPrompt.label(for: "Оплатить заказ можно картой.", cited: nil, in: article) == "article:payment")
            #expect(FAQDraftPrompt.label(for: "Оплатить заказ можно за 10 минут.", cited: nil, in: article) == nil)
            #expect(FAQDraftPrompt.label(for: "Доставка бесплатная курьером по всей стране.", cited: nil, in: article) == nil)
            #expect(throws: HelperError.self) { try FAQDraftPrompt.read("{\"items\": []}", source: article, known: []) }
            #expect(try FAQDraftPrompt.read("```json\n{\"entries\": []}\n```", source: article, known: []).isEmpty)
        }
    }
}

import Foundation
import PostgresNIO
import Synchronization
import Testing

@testable import App

/// Points the shop's bot at a model on `url` (an OpenAI-compatible fake) with its own key, sealed as the panel seals it.
func useModel(
    _ env: TestEnvironment, _ tenant: TenantRecord, url: String, timeout: Double = 10, onUncited: LLMSettings.Uncited = .fallback,
    instructions: String = "", jsonSchema: Bool = false
) async throws {
    var provider = LLMProvider(kind: .openai, baseURL: url + "/v1", model: "gpt-4o-mini", timeoutSeconds: timeout)
    provider.jsonSchema = jsonSchema
    let settings = LLMSettings(mode: .own, provider: provider, instructions: instructions, onUncited: onUncited)
    let sealed = try env.services.secrets.seal("sk-shop-key")
    try await env.services.tenants.withTenant(tenant) { connection in
        try await connection.execute("UPDATE bots SET llm = \(settings.json)::jsonb, llm_key = \(sealed)")
    }
}

/// A model's reply in the shape the grounded prompt asks for.
func groundedJSON(_ text: String, citations: [String], action: String = "answer") -> String {
    chatJSON(["action": action, "text": text, "citations": citations])
}

/// The messages of a recorded Chat Completions request: (role, content).
func chatMessages(_ request: FakeChatServer.Received) -> [(role: String, content: String)] {
    (request.json["messages"] as? [[String: Any]] ?? []).map { ($0["role"] as? String ?? "", $0["content"] as? String ?? "") }
}

@Suite("The bot engine with a language model")
struct BotModelTests {
    /// The model's cited answer becomes the bot's: step `llm`, the first citation as the entry, its links as buttons,
    /// the tokens counted in the shop's month and the explanation stored with the passages sent.
    @Test func aGroundedAnswerCitesItsPassagesAndCountsItsTokens() async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(.reply(200, FakeOpenAIServer.completion(groundedJSON("Доставка займёт от 2 до 6 дней.", citations: ["p1"]))))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url, instructions: "Говори на «вы».")
                let reply = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                let answer = try #require(reply.answer)
                #expect(answer.step == .llm && answer.text == "Доставка займёт от 2 до 6 дней.")
                #expect(answer.entry?.slug == "delivery-time")
                #expect(answer.parts.map(\.url) == ["/help/delivery"])
                let report = try #require(answer.model)
                #expect(report.citations == ["faq:delivery-time"] && report.tokens == TokenUsage(prompt: 19, completion: 10))
                #expect(report.passages.first == "p1 faq:delivery-time" && report.refused == nil)

                // What was sent: one system message with the rules, the instructions and the passages; the shopper's
                // words last, as a user message; JSON output asked for; the shop's key.
                let request = try #require(fake.requests.first)
                #expect(request.headers["authorization"] == "Bearer sk-shop-key")
                let messages = chatMessages(request)
                #expect(messages.first?.role == "system" && messages.filter { $0.role == "system" }.count == 1)
                #expect(messages.first?.content.contains("Говори на «вы».") == true)
                #expect(messages.first?.content.contains("Доставка занимает от 2 до 6 дней.") == true)
                #expect(messages.last?.role == "user" && messages.last?.content == "сколько идёт доставка")
                #expect((request.json["response_format"] as? [String: Any])?["type"] as? String == "json_object")

                let (tokens, calls) = try #require(
                    try await env.services.database.value(
                        (Int64, Int32).self,
                        """
                        SELECT u.llm_prompt_tokens + u.llm_completion_tokens, u.llm_calls FROM platform.message_usage u
                        WHERE u.tenant_id = \(tenant.id)
                        """))
                #expect(tokens == 29 && calls == 1)
                let (bots, stored) = try #require(
                    try await env.services.tenants.withTenant(tenant) { connection in
                        try await connection.value(
                            (Int, String?).self,
                            "SELECT count(*)::int, max(explanation->'model'->>'model') FROM messages WHERE author = 'bot'")
                    })
                #expect(stored == "openai/gpt-4o-mini")
                #expect(bots == 1)
            }
        }
    }

    /// Whatever the model gets wrong, the shopper gets retrieval's answer (when it was sure) or the fallback, and the
    /// explanation says why the model's reply was refused.
    @Test(arguments: [
        (groundedJSON("Доставка — 2–6 дней.", citations: ["p9"]), "cited \"p9\""),
        (groundedJSON("Доставка — 2–6 дней, подробнее: https://evil.example/x", citations: ["p1"]), "links to https://evil.example/x"),
        (groundedJSON("Delivery takes two to six days.", citations: ["p1"]), "did not answer in Russian"),
        ("Доставка занимает 2–6 дней.", "not the JSON object"),
        (groundedJSON("Не знаю.", citations: []), "cites no passage"),
        (groundedJSON("Хорошо.", citations: ["p1"], action: "bogus"), "is not answer, clarify or handoff"),
        (groundedJSON("Сколько идёт доставка?", citations: ["p1"]), "only repeats the question"),
        (groundedJSON("Да, у нас большой выбор роз и тюльпанов к празднику!", citations: ["p1"]), "shares almost no wording"),
    ])
    func anInvalidModelReplyIsRefused(output: String, why: String) async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(.reply(200, FakeOpenAIServer.completion(output)))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url)
                let reply = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                let answer = try #require(reply.answer)
                #expect(answer.step == .knowledge && answer.entry?.slug == "delivery-time")
                let notes = ([answer.model?.refused ?? ""] + answer.notes).joined(separator: " | ")
                #expect(notes.contains(why), "\(notes)")
                #expect(fake.requests.count == 1)
            }
        }
    }

    /// `on_uncited: handoff`: a model that says it cannot answer (or asks for a person) hands the conversation over.
    @Test func aHandoffIsATypedActionAndFollowsTheBotsSetting() async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(.reply(200, FakeOpenAIServer.completion(groundedJSON("", citations: [], action: "handoff"))))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url, onUncited: .handoff)
                // The magic string of other products means nothing here: only the typed action hands off.
                let reply = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "у меня сломался заказ, доставка не пришла", channel: .test), in: tenant)
                #expect(reply.answer?.step == .handoff && reply.state == .waiting)
                #expect(reply.answer?.notes.contains("the model would hand off") == true)
            }
        }
    }

    /// Over the plan's tokens (or the shop's own lower cap) the model is not asked at all; retrieval answers go on.
    @Test func aShopOverItsCapStillGetsRetrievalAnswers() async throws {
        let fake = FakeOpenAIServer.make()
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url)
                try await env.services.database.execute(
                    """
                    WITH p AS (INSERT INTO platform.plans (id, slug, name, llm_tokens_per_month) VALUES (gen_random_uuid(), 'llm-small', 'S', 1000) RETURNING id)
                    UPDATE platform.tenants SET plan_id = (SELECT id FROM p), llm_token_cap = 100 WHERE id = \(tenant.id)
                    """)
                try await env.services.database.execute(
                    """
                    INSERT INTO platform.message_usage (tenant_id, month, messages, llm_prompt_tokens, llm_completion_tokens)
                    VALUES (\(tenant.id), date_trunc('month', now() AT TIME ZONE 'UTC')::date, 3, 80, 20)
                    """)
                let reply = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                #expect(reply.answer?.step == .knowledge && reply.answer?.entry?.slug == "delivery-time")
                #expect(fake.requests.isEmpty)
                // Lifting the shop's own cap (the plan allows 1,000) brings the model back.
                try await env.services.database.execute("UPDATE platform.tenants SET llm_token_cap = NULL WHERE id = \(tenant.id)")
                fake.queue(.reply(200, FakeOpenAIServer.completion(groundedJSON("От 2 до 6 дней.", citations: ["p1"]))))
                let again = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                #expect(again.answer?.step == .llm && fake.requests.count == 1)
            }
        }
    }

    /// A model slower than the budget is cut off; the shopper gets retrieval's answer in about the budget's time.
    @Test func aSlowModelPastTheBudgetIsCancelledForRetrievalsAnswer() async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(.slow(.seconds(8), then: .reply(200, FakeOpenAIServer.completion(groundedJSON("Поздно.", citations: ["p1"])))))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url, timeout: 1)
                let started = ContinuousClock.now
                let reply = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                let elapsed = ContinuousClock.now - started
                #expect(reply.answer?.step == .knowledge && reply.answer?.entry?.slug == "delivery-time")
                #expect(reply.answer?.model?.refused?.contains("did not answer in time") == true)
                #expect(elapsed < .seconds(5), "\(elapsed)")
            }
        }
    }

    /// The conversation so far goes to the model in its roles: the shopper's turns as user messages, the bot's and
    /// operators' as assistant ones, internal notes never.
    @Test func theHistoryKeepsItsRolesAndLeavesNotesOut() async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(
            .reply(200, FakeOpenAIServer.completion(groundedJSON("От 2 до 6 дней.", citations: ["p1"]))),
            .reply(200, FakeOpenAIServer.completion(groundedJSON("В течение 14 дней.", citations: ["p1"]))))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url)
                let first = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                try await env.services.tenants.withTenant(tenant) { connection in
                    try await connection.execute(
                        """
                        INSERT INTO messages (conversation_id, channel, author, text, internal)
                        VALUES (\(first.conversationID), 'test', 'operator', 'секретная заметка', true)
                        """)
                }
                _ = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "а как вернуть товар", channel: .test, conversationID: first.conversationID), in: tenant)
                let messages = chatMessages(try #require(fake.requests.last))
                #expect(messages.map(\.role) == ["system", "user", "assistant", "user"])
                #expect(messages[1].content == "сколько идёт доставка" && messages[2].content == "От 2 до 6 дней.")
                #expect(messages.last?.content == "а как вернуть товар")
                #expect(!messages.contains { $0.content.contains("секретная заметка") })
            }
        }
    }

    /// In the widget the answer streams as the model writes it (a draft row the widget's stream reads), and the finished
    /// message is stored once, the draft gone.
    @Test func theWidgetSeesTheAnswerGrowAndTheMessageIsStoredOnce() async throws {
        let json = groundedJSON("Доставка займёт от двух до шести рабочих дней.", citations: ["p1"])
        let pieces = stride(from: 0, to: json.count, by: 12).map { start in
            String(json.dropFirst(start).prefix(12))
        }
        let fake = FakeOpenAIServer.make()
        fake.queue(.events(FakeOpenAIServer.events(pieces), every: .milliseconds(250)))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url)
                let engine = env.services.botEngine
                let done = Mutex(false)
                let answering = Task {
                    defer { done.withLock { $0 = true } }
                    return try await engine.reply(
                        to: ShopperMessage(text: "сколько идёт доставка", channel: .widget, externalContactID: "v-1"), in: tenant)
                }
                var drafts: [String] = []
                let started = ContinuousClock.now
                while !done.withLock({ $0 }), ContinuousClock.now - started < .seconds(10) {
                    let text = try await env.services.tenants.withTenant(tenant) { connection in
                        try await connection.value(String.self, "SELECT text FROM answer_drafts")
                    }
                    if let text, drafts.last != text { drafts.append(text) }
                    try await Task.sleep(for: .milliseconds(40))
                }
                let reply = try await answering.value
                #expect(reply.answer?.step == .llm && reply.answer?.text == "Доставка займёт от двух до шести рабочих дней.")
                #expect(fake.requests.first?.json["stream"] as? Bool == true)
                #expect(
                    !drafts.isEmpty && drafts.allSatisfy { "Доставка займёт от двух до шести рабочих дней.".hasPrefix($0) }, "\(drafts)")
                let (bots, left) = try #require(
                    try await env.services.tenants.withTenant(tenant) { connection in
                        try await connection.value(
                            (Int, Int).self,
                            "SELECT (SELECT count(*)::int FROM messages WHERE author = 'bot'), (SELECT count(*)::int FROM answer_drafts)")
                    })
                #expect(bots == 1 && left == 0)
            }
        }
    }

    /// A provider that takes JSON Schemas gets the grounded reply's: the three fields, the action's three values and
    /// citations only among the passages sent; one that does not gets JSON mode.
    @Test func aProviderThatTakesSchemasGetsTheReplysSchema() async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(
            .reply(200, FakeOpenAIServer.completion(groundedJSON("От 2 до 6 дней.", citations: ["p1"]))),
            .reply(200, FakeOpenAIServer.completion(groundedJSON("От 2 до 6 дней.", citations: ["p1"]))))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url, jsonSchema: true)
                let reply = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                #expect(reply.answer?.step == .llm)
                let format = try #require(fake.requests.first?.json["response_format"] as? [String: Any])
                #expect(format["type"] as? String == "json_schema")
                let wrapper = try #require(format["json_schema"] as? [String: Any])
                let schema = try #require(wrapper["schema"] as? [String: Any])
                #expect(wrapper["name"] as? String == "grounded_reply" && schema["additionalProperties"] as? Bool == false)
                #expect(Set(schema["required"] as? [String] ?? []) == ["action", "text", "citations"])
                let properties = try #require(schema["properties"] as? [String: [String: Any]])
                #expect(properties["action"]?["enum"] as? [String] == ["answer", "clarify", "handoff"])
                let ids = try #require((properties["citations"]?["items"] as? [String: Any])?["enum"] as? [String])
                let passages = try #require(reply.answer?.model?.passages)
                #expect(ids == passages.map { String($0.split(separator: " ").first ?? "") } && ids.first == "p1")
                #expect(properties["citations"]?["maxItems"] as? Int == ids.count)

                try await useModel(env, tenant, url: url)
                _ = try await env.services.botEngine.reply(to: ShopperMessage(text: "сколько идёт доставка", channel: .test), in: tenant)
                #expect((fake.requests.last?.json["response_format"] as? [String: Any])?["type"] as? String == "json_object")
            }
        }
    }
}

import Foundation
import Testing

@testable import App

@Suite("bot eval with a language model")
struct BotEvaluationModelTests {
    static let questions = """
        shop: tea
        questions:
          - {q: "сколько идёт доставка", expect: [delivery-time]}
          - {q: "как вернуть товар", expect: [returns]}
          - {q: "позовите оператора", expect: handoff}
        """

    /// A scripted model: questions about delivery get an answer citing p1 (the delivery entry, ranked first), the
    /// others an answer that cites nothing.
    static func scriptedModel() -> FakeChatServer {
        FakeChatServer { request in
            let asked = chatMessages(request).last?.content ?? ""
            let reply =
                asked.contains("доставка")
                ? groundedJSON("Доставка займёт от 2 до 6 дней.", citations: ["p1"])
                : groundedJSON("Думаю, вернуть можно когда угодно.", citations: [])
            return .reply(200, FakeOpenAIServer.completion(reply, usage: (120, 15)))
        }
    }

    /// The model's cited answer counts as right by its first citation (`step llm`); an uncited reply is refused and
    /// retrieval's answer stands in for it; a hand-off never reaches the model; tokens and time are added up.
    @Test func theModelsAnswersCountByTheirCitationsAndUncitedRepliesAreRefused() async throws {
        let fake = Self.scriptedModel()
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url)
                let set = try QuestionSet.parse(Self.questions, file: "tea.yml")
                let report = try await env.services.botEngine.evaluate(set, in: tenant, llm: .auto)

                #expect(report.rightFirst == 2 && report.answerable == 2 && report.handedOff == 1)
                let delivery = try #require(report.results.first)
                #expect(delivery.step == "llm" && delivery.entry == "delivery-time")
                #expect(delivery.text == "Доставка займёт от 2 до 6 дней." && delivery.model?.citations == ["faq:delivery-time"])
                let returns = report.results[1]
                #expect(returns.step == "knowledge" && returns.entry == "returns")
                #expect(returns.model != nil && returns.text != "Думаю, вернуть можно когда угодно.")
                #expect(returns.reply?.contains("Думаю, вернуть можно когда угодно.") == true)
                #expect(report.results[2].step == "handoff" && report.results[2].model == nil)

                let model = try #require(report.llm)
                #expect(model.model == "openai/gpt-4o-mini")
                #expect(model.calls == 2 && model.answers == 1 && model.rightAnswers == 1)
                #expect(model.refused == 1 && model.failed == 0 && model.clarified == 0)
                #expect(model.promptTokens == 240 && model.completionTokens == 30 && model.meanTokens == 135)
                #expect(fake.requests.count == 2)

                // Nothing was stored: no conversation, no message, no tokens counted in the shop's month.
                let stored = try await env.services.tenants.withTenant(tenant) { connection in
                    try await connection.value(Int.self, "SELECT count(*)::int FROM messages")
                }
                #expect(stored == 0)
                let tokens = try await env.services.database.value(
                    Int64.self,
                    "SELECT coalesce(sum(llm_prompt_tokens + llm_completion_tokens), 0)::int8 FROM platform.message_usage WHERE tenant_id = \(tenant.id)"
                )
                #expect(tokens == 0)

                // --llm off: retrieval alone, the model not asked.
                let off = try await env.services.botEngine.evaluate(set, in: tenant, llm: .off)
                #expect(off.llm == nil && off.results.allSatisfy { $0.model == nil } && off.results.first?.step == "knowledge")
                #expect(fake.requests.count == 2)
            }
        }
    }

    /// A model that answers off-topic questions from a passage it cites is not kept out: the figure shows it.
    @Test func aCitedAnswerToAnOffTopicQuestionIsNotKeptOut() async throws {
        let fake = FakeChatServer { _ in
            .reply(200, FakeOpenAIServer.completion(groundedJSON("Доставка займёт от 2 до 6 дней.", citations: ["p1"])))
        }
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url)
                let set = try QuestionSet.parse(
                    "questions:\n  - {q: \"а доставка погоды на марс бывает\", expect: none}", file: "tea.yml")
                let report = try await env.services.botEngine.evaluate(set, in: tenant, llm: .on)
                #expect(report.offTopic == 1 && report.keptOut == 0 && report.misses.first?.step == "llm")
                #expect(report.llm?.answers == 1 && report.llm?.rightAnswers == 0)
            }
        }
    }

    /// `--llm on` for a bot without a model is a mistake said as such, not a run of retrieval alone.
    @Test func onWithoutAModelIsRefused() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let set = try QuestionSet.parse(Self.questions, file: "tea.yml")
            await #expect(throws: NoModelToEvaluate.self) { try await env.services.botEngine.evaluate(set, in: tenant, llm: .on) }
            let auto = try await env.services.botEngine.evaluate(set, in: tenant, llm: .auto)
            #expect(auto.llm == nil && auto.rightFirst == 2)
        }
    }
}

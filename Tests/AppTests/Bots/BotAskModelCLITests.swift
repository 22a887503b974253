import Foundation
import Testing

@testable import App

@Suite("vitrina bot ask with a language model from tenants.yml")
struct BotAskModelCLITests {
    /// The "done when": a provider set in tenants.yml (a fake OpenAI-compatible server, its key from the
    /// environment variable `api_key_env` names) makes `bot ask --json` answer with `"step": "llm"`, the cited entries
    /// in `citations` (the first in `entry`) and `tokens`; a question outside the knowledge gets the fallback.
    @Test func askAnswersFromTheModelWithCitationsAndTokens() async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(
            .reply(200, FakeOpenAIServer.completion(groundedJSON("Курьер привезёт заказ за два дня.", citations: ["p1", "p2"]))),
            // Out of the knowledge the small print of rule 1: an answer that cites nothing is not used.
            .reply(200, FakeOpenAIServer.completion(groundedJSON("Думаю, на Марсе холодно.", citations: []))))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let folder = try TemporaryFolder()
                try folder.write(
                    "t.yml",
                    """
                    tenants:
                      - slug: acme
                        name: Acme Tea
                        help_articles:
                          - {slug: delivery, title: Доставка, body: "Курьером за два дня по Москве, почтой за неделю."}
                        bot:
                          name: Чайник
                          language: ru
                          llm: {provider: openai, base_url: "\(url)/v1", model: gpt-4o-mini, api_key_env: ACME_LLM_KEY, timeout: 10, json_schema: true}
                        faq:
                          - slug: delivery-time
                            question: Сколько идёт доставка?
                            phrasings: [Когда привезут заказ?]
                            answer: Два дня.
                    """)
                let apply = try await CLI.run(
                    ["tenants", "apply", folder.path + "/t.yml"], database: env.url, extraEnvironment: ["ACME_LLM_KEY": "sk-acme"])
                #expect(apply.status == 0, "\(apply.output)")
                #expect(!apply.output.contains("sk-acme"))
                let run = try await CLI.run(["bot", "ask", "acme", "сколько идёт доставка", "--json"], database: env.url)
                #expect(run.status == 0, "\(run.output)")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(run.output.lastLine.utf8)) as? [String: Any])
                #expect(object["step"] as? String == "llm" && object["text"] as? String == "Курьер привезёт заказ за два дня.")
                let citations = try #require(object["citations"] as? [String])
                #expect(citations.count == 2 && Set(citations) == ["delivery-time", "delivery"])
                #expect(object["entry"] as? String == citations.first)
                let tokens = try #require(object["tokens"] as? [String: Any])
                #expect(tokens["total"] as? Int == 29 && tokens["prompt"] as? Int == 19)
                #expect(fake.requests.first?.headers["authorization"] == "Bearer sk-acme")
                #expect((fake.requests.first?.json["response_format"] as? [String: Any])?["type"] as? String == "json_schema")

                let off = try await CLI.run(["bot", "ask", "acme", "какая погода на марсе", "--json"], database: env.url)
                let answer = try #require(try JSONSerialization.jsonObject(with: Data(off.output.lastLine.utf8)) as? [String: Any])
                #expect(["fallback", "handoff"].contains(answer["step"] as? String ?? ""), "\(off.output)")
                #expect(answer["text"] as? String != "Думаю, на Марсе холодно.")
            }
        }
    }
}

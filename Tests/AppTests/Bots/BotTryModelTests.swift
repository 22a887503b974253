import Foundation
import Testing

@testable import App

@Suite("Try the bot with a language model")
struct BotTryModelTests {
    /// The explanation under a model's answer shows the model, the time, the tokens and the passages sent (the cited
    /// one marked); under a refused reply, why it was not used.
    @Test func theExplanationShowsPassagesTokensAndTime() async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(
            .reply(200, FakeOpenAIServer.completion(groundedJSON("Доставка займёт от 2 до 6 дней.", citations: ["p1"]))),
            .reply(200, FakeOpenAIServer.completion(groundedJSON("Смотрите https://elsewhere.example", citations: ["p1"]))))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "acme")
                try await useModel(env, tenant, url: url)
                try await env.makeUser("vera@acme.test", role: .viewer, tenant: "acme")
                try await env.withApp { client throws in
                    var browser = Browser(client, host: "acme.vitrina.test")
                    try await browser.signIn("vera@acme.test", BotTryPageTests.password)
                    _ = try await browser.get("/admin/bot/try")
                    let sent = try await browser.post("/admin/bot/try", ["text": "Сколько идёт доставка?", "conversation": ""])
                    let location = try #require(sent.location)
                    let page = try await browser.get(location)
                    #expect(page.text.contains("Доставка займёт от 2 до 6 дней."))
                    #expect(page.text.contains("языковая модель") && page.text.contains("<code>openai/gpt-4o-mini</code>"))
                    #expect(page.text.contains("19 + 10 = 29 токенов"))
                    #expect(page.text.contains("p1 faq:delivery-time · процитирован"))
                    #expect(!page.text.contains("sk-shop-key"))

                    let id = String(location.split(separator: "=").last ?? "")
                    _ = try await browser.post("/admin/bot/try", ["text": "Сколько идёт доставка?", "conversation": id])
                    let refused = try await browser.get(location)
                    #expect(refused.text.contains("Её ответ не использован"))
                    #expect(refused.text.contains("links to https://elsewhere.example"))
                }
            }
        }
    }
}

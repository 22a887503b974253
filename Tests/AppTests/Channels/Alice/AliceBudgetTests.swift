import Foundation
import Testing

@testable import App

@Suite("Alice's deadline: the best fast answer, or \"one moment\" and the answer on the next turn")
struct AliceBudgetTests {
    /// A model slower than the budget is cut off in time for retrieval's answer: the shopper hears it at once.
    @Test func aSlowModelGivesWayToRetrievalsAnswerWithinTheBudget() async throws {
        let fake = FakeOpenAIServer.make()
        fake.queue(
            .slow(
                .milliseconds(6000),
                then: .reply(200, FakeOpenAIServer.completion(groundedJSON("Доставка займёт от 2 до 6 дней.", citations: ["p1"])))))
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                try await useModel(env, tenant, url: url)
                let connection = try await connectAlice(env, tenant)
                // The model gets 3.2 s of the 4 s; retrieval's answer has the rest.
                try await env.withApp(configure: { $0.channels.aliceBudget = .milliseconds(4000) }) { client in
                    let alice = AliceClient(client: client, host: "tea.vitrina.test", path: connection.webhookPath)
                    let started = ContinuousClock.now
                    let first = try await alice.post(
                        aliceJSON(command: "сколько идет доставка", utterance: "Сколько идёт доставка?", messageID: 1))
                    let elapsed = ContinuousClock.now - started
                    let response = try #require(first.object["response"] as? [String: Any])
                    #expect(response["text"] as? String == "Доставка занимает от 2 до 6 дней.")
                    #expect(elapsed < .milliseconds(4000) && elapsed > .milliseconds(3000), "answered in \(elapsed)")
                    #expect(fake.requests.count == 1)
                    let stored = try await aliceMessages(env, tenant)
                    #expect(stored.map(\.0) == ["shopper", "bot"] && stored.last?.2 == "sent")
                }
            }
        }
    }

    /// A step before the model (here the embedding of the question) runs past the budget: "one moment" now, the answer
    /// computed meanwhile on the next turn.
    @Test func pastTheBudgetTheShopperHearsOneMomentAndTheAnswerNextTurn() async throws {
        let embeddings = FakeEmbeddingsServer()
        let url = try await embeddings.start()
        embeddings.behaviour = .slow(.milliseconds(1500))
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let connection = try await connectAlice(env, tenant)
            try await env.withApp(
                configure: { $0.channels.aliceBudget = .milliseconds(400) },
                embeddings: EmbeddingsEndpoint(baseURL: url, model: "fake-model")
            ) { client in
                let alice = AliceClient(client: client, host: "tea.vitrina.test", path: connection.webhookPath)
                let started = ContinuousClock.now
                let first = try await alice.post(
                    aliceJSON(command: "сколько идет доставка", utterance: "Сколько идёт доставка?", messageID: 1))
                let elapsed = ContinuousClock.now - started
                let response = try #require(first.object["response"] as? [String: Any])
                #expect(response["text"] as? String == "Минутку, уточняю. Спросите «что там?» через пару секунд.")
                #expect((first.object["session_state"] as? [String: Any])?["pending"] as? Bool == true)
                #expect(elapsed < .milliseconds(1200), "answered in \(elapsed)")

                // The answer goes on and is stored, not yet heard.
                var stored: [(String, String, String?)] = []
                for _ in 0..<60 where stored.count < 2 {
                    try await Task.sleep(for: .milliseconds(100))
                    stored = try await aliceMessages(env, tenant)
                }
                #expect(stored.map(\.0) == ["shopper", "bot"] && stored.last?.2 == "queued")

                embeddings.behaviour = .vectors
                let next = try await alice.say("Что там?", messageID: 2)
                #expect(next["text"] as? String == "Доставка занимает от 2 до 6 дней.")
                let after = try await aliceMessages(env, tenant)
                #expect(after.count == 2 && after.last?.2 == "sent")
            }
        }
        try await embeddings.stop()
    }
}

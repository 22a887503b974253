import Foundation
import Testing

@testable import App

@Suite("vitrina bot ask and eval")
struct BotCLITests {
    @Test func askPrintsTheDocumentedJSONAndContinuesAConversation() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let first = try await CLI.run(["bot", "ask", "tea", "сколько идёт доставка", "--json"], database: env.url)
            #expect(first.status == 0, "\(first.output)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(first.output.lastLine.utf8)) as? [String: Any])
            #expect(Set(object.keys).isSuperset(of: ["conversation", "text", "step", "entry", "score", "state", "candidates"]))
            #expect(object["step"] as? String == "knowledge" && object["entry"] as? String == "delivery-time")
            #expect(object["state"] as? String == "bot" && (object["score"] as? Double ?? 0) > 0)
            let candidates = try #require(object["candidates"] as? [[String: Any]])
            #expect(candidates.first?["entry"] as? String == "delivery-time" && candidates.first?["score"] is Double)
            let conversation = try #require(object["conversation"] as? Int)
            let handoff = try await CLI.run(
                ["bot", "ask", "tea", "позовите оператора", "--conversation", String(conversation), "--json"], database: env.url)
            let second = try #require(try JSONSerialization.jsonObject(with: Data(handoff.output.lastLine.utf8)) as? [String: Any])
            #expect(second["conversation"] as? Int == conversation && second["step"] as? String == "handoff")
            #expect(second["state"] as? String == "waiting" && second["entry"] is NSNull)
            let missing = try await CLI.run(["bot", "ask", "tea", "hi", "--conversation", "999999"], database: env.url)
            #expect(missing.status == 2 && missing.output.contains("There is no conversation 999999"))
            let unknown = try await CLI.run(["bot", "ask", "nobody", "hi"], database: env.url)
            #expect(unknown.status == 2)
        }
    }

    @Test func evalCountsRightAnswersOffTopicAndHandOffs() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let folder = try TemporaryFolder()
            try folder.write(
                "q.yml",
                """
                shop: tea
                questions:
                  - {q: "когда привезут мой заказ", expect: [delivery-time]}
                  - {q: "вазврат товара", expect: returns}
                  - {q: "какая погода на марсе", expect: none}
                  - {q: "позовите человека", expect: handoff}
                """)
            let run = try await CLI.run(["bot", "eval", "tea", folder.path + "/q.yml", "--json"], database: env.url)
            #expect(run.status == 0, "\(run.output)")
            let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(run.output.lastLine.utf8))
            #expect(report.answerable == 2 && report.rightFirst == 2)
            #expect(report.offTopic == 1 && report.keptOut == 1 && report.handoffRequests == 1 && report.handedOff == 1)
            try folder.write("bad.yml", "questions:\n  - {q: hi}\n")
            let bad = try await CLI.run(["bot", "eval", "tea", folder.path + "/bad.yml"], database: env.url)
            #expect(bad.status == 2 && bad.output.contains("bad.yml:2"))
        }
    }
}

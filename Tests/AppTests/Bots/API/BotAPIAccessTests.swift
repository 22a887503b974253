import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("Bot API: scopes, isolation between shops, and talking to the bot")
struct BotAPIAccessTests {
    @Test func aKeyWithoutBotWriteReadsButCannotChangeAndPartnerKeysAreRefused() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            _ = try await makeBotShop(env, "tea")
            let shop = APIKeyOwner.tenant(try #require(try await env.provisioner.lookup(slug: "tea")))
            let reader = try await env.makeKey(shop, name: "reader", scopes: [.botRead])
            let articlesOnly = try await env.makeKey(shop, name: "articles", scopes: [.articlesRead, .articlesWrite])
            let partner = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let api = APIClient(client, token: reader)
                for path in ["/api/v1/bot", "/api/v1/faq", "/api/v1/faq/returns", "/api/v1/synonyms", "/api/v1/templates", "/api/v1/rules"]
                {
                    #expect(try await api.get(path).status == .ok, "\(path)")
                    #expect(try await APIClient(client, token: articlesOnly).get(path).isProblem("forbidden", .forbidden), "\(path)")
                    #expect(try await APIClient(client, token: partner).get(path).isProblem("forbidden", .forbidden), "\(path)")
                }
                let writes: [(HTTPRequest.Method, String, String?)] = [
                    (.put, "/api/v1/bot", #"{"name": "X"}"#),
                    (.post, "/api/v1/faq", #"{"question": "Q?", "answer": "A."}"#),
                    (.put, "/api/v1/faq/returns", #"{"answer": "Never."}"#),
                    (.delete, "/api/v1/faq/returns", nil),
                    (.put, "/api/v1/synonyms", #"{"synonyms": []}"#),
                    (.post, "/api/v1/templates", #"{"name": "x", "text": "x"}"#),
                    (.delete, "/api/v1/templates/wholesale", nil),
                    (.post, "/api/v1/rules", #"{"name": "x", "when": {"regex": "x"}, "then": {"handoff": true}}"#),
                    (.delete, "/api/v1/rules/wholesale", nil),
                    (.post, "/api/v1/bot/messages", #"{"text": "Привет"}"#),
                ]
                for (method, path, body) in writes {
                    #expect(try await api.call(method, path, json: body).isProblem("forbidden", .forbidden), "\(method) \(path)")
                    #expect(
                        try await APIClient(client, token: partner).call(method, path, json: body).isProblem("forbidden", .forbidden),
                        "\(method) \(path)")
                }
                #expect(try await api.get("/api/v1/faq").items.count == 3)
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.audit_log WHERE action LIKE 'faq.%'", as: Int.self) == 0)
            }
        }
    }

    @Test func twoShopsWithTheSameFAQSlugSeeOnlyTheirOwn() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            _ = try await makeBotShop(env, "bolt", answerSuffix: " (bolt)")
            let tea = try await env.tenantKey("tea")
            let bolt = try await env.tenantKey("bolt")
            try await env.withApp { client throws in
                let teaAPI = APIClient(client, token: tea)
                let boltAPI = APIClient(client, token: bolt)
                let changed = try await boltAPI.call(.put, "/api/v1/faq/delivery-time", json: #"{"answer": "Only bolt's."}"#)
                #expect(changed.status == .ok && changed.object["answer"] as? String == "Only bolt's.")
                #expect(try await boltAPI.call(.delete, "/api/v1/faq/returns").status == .noContent)
                #expect(try await boltAPI.call(.put, "/api/v1/bot", json: #"{"name": "Bolty"}"#).status == .ok)

                #expect(
                    try await teaAPI.get("/api/v1/faq/delivery-time").object["answer"] as? String == "Доставка занимает от 2 до 6 дней.")
                #expect(try await teaAPI.get("/api/v1/faq/returns").status == .ok)
                #expect(try await teaAPI.get("/api/v1/bot").object["name"] as? String == "")
                #expect(try await boltAPI.get("/api/v1/faq/returns").isProblem("not-found", .notFound))
                #expect(try await teaAPI.get("/api/v1/faq").items.count == 3)
                #expect(try await boltAPI.get("/api/v1/faq").items.count == 2)
            }
        }
    }

    @Test func messagesAreAnsweredFromTheFAQWithTheirExplanationAndConversationsContinue() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            _ = try await makeBotShop(env, "bolt")
            let tea = try await env.tenantKey("tea")
            let bolt = try await env.tenantKey("bolt")
            try await env.withApp { client throws in
                let api = APIClient(client, token: tea)
                let first = try await api.call(
                    .post, "/api/v1/bot/messages", json: #"{"text": "Сколько идёт доставка?", "contact": "crm-1"}"#)
                #expect(first.status == .ok)
                let reply = first.object
                #expect(reply["step"] as? String == "knowledge" && reply["entry"] as? String == "delivery-time")
                #expect((reply["text"] as? String)?.contains("от 2 до 6 дней") == true)
                #expect((reply["score"] as? Double ?? 0) > 0 && reply["state"] as? String == "bot" && reply["handoff"] is NSNull)
                #expect(reply["rule"] is NSNull && reply["message"] is Int)
                let candidate = (reply["candidates"] as? [[String: Any]])?.first
                #expect(candidate?["entry"] as? String == "delivery-time" && candidate?["source"] as? String == "faq")
                #expect((reply["parts"] as? [[String: Any]])?.contains { $0["url"] as? String == "/help/delivery" } == true)
                let conversation = try #require(reply["conversation"] as? Int)

                // The same contact continues its conversation; naming it does too.
                let again = try await api.call(.post, "/api/v1/bot/messages", json: #"{"text": "Хочу купить оптом", "contact": "crm-1"}"#)
                #expect(again.object["conversation"] as? Int == conversation && again.object["rule"] as? String == "wholesale")
                let person = try await api.call(
                    .post, "/api/v1/bot/messages", json: #"{"text": "Позовите оператора", "conversation": \#(conversation)}"#)
                #expect(person.object["handoff"] as? String == "shopper_request" && person.object["state"] as? String == "waiting")
                let quiet = try await api.call(.post, "/api/v1/bot/messages", json: #"{"text": "Алло?", "conversation": \#(conversation)}"#)
                #expect(quiet.status == .ok && quiet.object["text"] is NSNull && quiet.object["state"] as? String == "waiting")
                #expect(quiet.object["conversation"] as? Int == conversation && quiet.object["message"] is NSNull)

                // Bolt's conversations are numbered on their own: one tea does not have is not found for tea.
                let boltAPI = APIClient(client, token: bolt)
                var boltConversation = 0
                for _ in 0..<3 {
                    let opened = try await boltAPI.call(.post, "/api/v1/bot/messages", json: #"{"text": "Привет", "channel": "test"}"#)
                    boltConversation = try #require(opened.object["conversation"] as? Int)
                }
                #expect(boltConversation > conversation)
                let theirs = try await api.call(
                    .post, "/api/v1/bot/messages", json: #"{"text": "Привет", "conversation": \#(boltConversation)}"#)
                #expect(theirs.isProblem("not-found", .notFound))

                let empty = try await api.call(.post, "/api/v1/bot/messages", json: #"{"text": "  "}"#)
                #expect(empty.isProblem("validation", .unprocessableContent) && empty.problemFields == ["text"])
                #expect(try await api.call(.post, "/api/v1/bot/messages", json: "{}").problemFields == ["text"])
                #expect(
                    try await api.call(.post, "/api/v1/bot/messages", json: #"{"text": "Hi", "channel": "telegram"}"#).problemFields
                        == ["channel"])
            }
        }
    }
}

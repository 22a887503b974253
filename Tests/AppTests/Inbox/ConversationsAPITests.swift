import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("Conversations API and hand-off end to end")
struct ConversationsAPITests {
    @Test func handOffOperatorReplyResolveRatingAndBackToTheBot() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let anna = try await env.makeUser("anna@tea.example", role: .operator, tenant: "tea")
            let key = try await env.tenantKey("tea", createdBy: anna.id)
            try await env.withApp { client in
                let shopper = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let api = APIClient(client, token: key)
                try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "позовите оператора"}"#)
                let handed = try await shopper.messages(atLeast: 2)
                #expect(handed.last?["author"] as? String == "bot")
                let waiting = try await api.get("/api/v1/conversations?state=waiting")
                #expect(waiting.status == .ok && waiting.items.count == 1 && waiting.object["next_cursor"] is NSNull)
                let id = try #require(waiting.items.first?["id"] as? Int)
                #expect((waiting.items.first?["waiting_since"] as? String) != nil)

                // The operator's reply takes the conversation and reaches the widget, named.
                let replied = try await api.call(.post, "/api/v1/conversations/\(id)/messages", json: #"{"text": "Здравствуйте, я Анна"}"#)
                #expect(replied.status == .created && replied.object["state"] as? String == "assigned")
                #expect(
                    replied.object["assignee_id"] as? String == anna.id.uuidString.lowercased()
                        || replied.object["assignee_id"] as? String == anna.id.uuidString)
                let note = try await api.call(
                    .post, "/api/v1/conversations/\(id)/messages", json: #"{"text": "VIP-клиент", "internal": true}"#)
                #expect(note.status == .created)
                let seen = try await shopper.messages(atLeast: 3)
                #expect(seen.last?["author"] as? String == "operator" && seen.last?["text"] as? String == "Здравствуйте, я Анна")
                #expect(!seen.contains { $0["text"] as? String == "VIP-клиент" })
                let all = try await api.get("/api/v1/conversations/\(id)/messages").items
                #expect(all.contains { $0["text"] as? String == "VIP-клиент" && $0["internal"] as? Bool == true })
                #expect(all.first { $0["author"] as? String == "bot" }?["explanation"] is [String: Any])

                // The bot keeps quiet while a person has the conversation.
                try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "Сколько идёт доставка?"}"#)
                try await Task.sleep(for: .milliseconds(500))
                let quiet = try await shopper.messages(atLeast: 4)
                #expect(quiet.count == 4 && quiet.last?["author"] as? String == "shopper")

                // Resolve, rate, and the next message goes back to the bot.
                #expect(try await api.call(.post, "/api/v1/conversations/\(id)/resolve").object["state"] as? String == "resolved")
                let state = try await shopper.call(.get, "/widget/api/conversation").object["conversation"] as? [String: Any]
                #expect(state?["state"] as? String == "resolved")
                let rated = try await shopper.call(
                    .post, "/widget/api/csat", json: #"{"conversation": \#(id), "rating": 5, "comment": "Спасибо!"}"#)
                #expect(rated.status == .ok)
                #expect(try await api.get("/api/v1/conversations/\(id)").object["csat"] as? Int == 5)
                try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "Сколько идёт доставка?"}"#)
                let back = try await shopper.messages(atLeast: 6)
                #expect(back.last?["author"] as? String == "bot")
                let events = try await api.get("/api/v1/conversations/\(id)").object["events"] as? [[String: Any]] ?? []
                #expect(
                    events.map { $0["reason"] as? String ?? "" } == ["started", "shopper_request", "taken", "resolved", "shopper_returned"])
                #expect(events.first { $0["reason"] as? String == "taken" }?["actor_name"] is NSNull)  // Anna has no name set
            }
        }
    }

    @Test func scopesCursorsOtherShopsAndErasure() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            _ = try await makeBotShop(env, "kofe")
            let anna = try await env.makeUser("anna@tea.example", role: .operator, tenant: "tea")
            let reader = try await env.tenantKey("tea", scopes: [.conversationsRead], createdBy: anna.id)
            let writer = try await env.tenantKey("tea", createdBy: anna.id)
            let noCreator = try await env.tenantKey("tea")
            let other = try await env.tenantKey("kofe")
            try await env.withApp { client in
                for _ in 0..<3 {
                    let shopper = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                    try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "оплата картой"}"#)
                    // Answered before the pages are read: an answer arriving between two pages would move its
                    // conversation up the list (it is ordered by the last message).
                    _ = try await shopper.messages(atLeast: 2)
                }
                let api = APIClient(client, token: reader)
                let first = try await api.get("/api/v1/conversations?limit=2")
                #expect(first.items.count == 2)
                let cursor = try #require(first.object["next_cursor"] as? String)
                let second = try await api.get("/api/v1/conversations?limit=2&cursor=\(cursor)")
                #expect(second.items.count == 1 && second.object["next_cursor"] is NSNull)
                let ids = (first.items + second.items).compactMap { $0["id"] as? Int }
                #expect(Set(ids).count == 3)
                #expect(try await api.get("/api/v1/conversations?state=nope").isProblem("invalid-parameter", .badRequest))
                #expect(try await api.get("/api/v1/conversations?cursor=%21%21").isProblem("invalid-parameter", .badRequest))
                // Reading is not writing; a key with no creator cannot act; another shop's key sees nothing of this one.
                let id = ids[0]
                #expect(try await api.call(.post, "/api/v1/conversations/\(id)/resolve").isProblem("forbidden", .forbidden))
                #expect(
                    try await APIClient(client, token: noCreator).call(.post, "/api/v1/conversations/\(id)/assign", json: "{}")
                        .isProblem("forbidden", .forbidden))
                let stranger = APIClient(client, token: other)
                #expect(try await stranger.get("/api/v1/conversations/\(id)").isProblem("not-found", .notFound))
                #expect(try await stranger.get("/api/v1/conversations").items.isEmpty)
                // Illegal moves are 409s; unknown teammates 422.
                let write = APIClient(client, token: writer)
                #expect(try await write.call(.post, "/api/v1/conversations/\(id)/release").isProblem("conflict", .conflict))
                let assignStranger = try await write.call(
                    .post, "/api/v1/conversations/\(id)/assign", json: #"{"user_id": "\#(UUID().uuidString)"}"#)
                #expect(assignStranger.isProblem("validation", .unprocessableContent))
                #expect(
                    try await write.call(.post, "/api/v1/conversations/\(id)/assign", json: "{}").object["state"] as? String == "assigned")
                #expect(try await write.call(.post, "/api/v1/conversations/\(id)/handback").object["state"] as? String == "bot")
                let empty = try await write.call(.post, "/api/v1/conversations/\(id)/messages", json: #"{"text": "  "}"#)
                #expect(empty.isProblem("validation", .unprocessableContent))

                // Erasure: the contact and everything of theirs.
                let contact = try #require(
                    (try await write.get("/api/v1/conversations/\(id)").object["contact"] as? [String: Any])?["id"] as? Int)
                #expect(try await write.call(.delete, "/api/v1/contacts/\(contact)").status == .noContent)
                #expect(try await write.get("/api/v1/conversations/\(id)").isProblem("not-found", .notFound))
                #expect(try await write.call(.delete, "/api/v1/contacts/\(contact)").isProblem("not-found", .notFound))
                #expect(
                    try await env.scalar(
                        "SELECT count(*)::int FROM platform.audit_log WHERE action = 'inbox.contact_deleted'", as: Int.self)
                        == 1)
            }
        }
    }

    @Test func retentionDeletesOldConversationsAndTheirContacts() async throws {
        try await TestEnvironment.with { env in
            let scope = try await makeBotShop(env, "tea").scope
            let tenant = try await env.record(scope)
            let engine = env.services.botEngine
            let old = try await engine.reply(to: ShopperMessage(text: "оплата", channel: .api, externalContactID: "old"), in: tenant)
            let fresh = try await engine.reply(to: ShopperMessage(text: "оплата", channel: .api, externalContactID: "new"), in: tenant)
            try await env.withTenant(scope) { connection in
                try await connection.execute(
                    "UPDATE conversations SET last_message_at = now() - interval '40 days' WHERE id = \(old.conversationID)")
                try await connection.execute("UPDATE contacts SET updated_at = now() - interval '40 days'")
            }
            // No retention set: nothing goes.
            #expect(try await env.services.retention.apply(tenant, logger: TestDatabase.logger) == 0)
            try await env.withTenant(scope) { connection in
                try await connection.execute("UPDATE inbox_settings SET retention_days = 30")
            }
            #expect(try await env.services.retention.apply(tenant, logger: TestDatabase.logger) == 1)
            let left = try await env.withTenant(scope) { connection in
                try await connection.values(Int.self, "SELECT id::int FROM conversations ORDER BY id")
            }
            #expect(left == [fresh.conversationID])
            let contacts = try await env.withTenant(scope) { try await $0.value(Int.self, "SELECT count(*)::int FROM contacts") }
            #expect(contacts == 1)
            // Queued once a day per shop, however many workers ask.
            try await env.services.retention.queueDaily(now: Date())
            try await env.services.retention.queueDaily(now: Date())
            #expect(try await env.scalar("SELECT count(*)::int FROM platform.jobs WHERE kind = 'inbox.retention'", as: Int.self) == 1)
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("Try the bot in the panel")
struct BotTryPageTests {
    static let password = "correct-horse-battery"

    @Test func aQuestionIsStoredAsATestConversationAndTheAnswerIsExplained() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("vera@acme.test", role: .viewer, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("vera@acme.test", Self.password)
                let empty = try await browser.get("/admin/bot/try")
                #expect(empty.status == .ok)
                #expect(empty.text.contains("Напишите, как написал бы покупатель"))
                #expect(empty.text.contains("name=\"conversation\" value=\"\""))

                let sent = try await browser.post("/admin/bot/try", ["text": "Сколько идёт доставка?", "conversation": ""])
                #expect(sent.status == .seeOther)
                let location = try #require(sent.location)
                #expect(location.hasPrefix("/admin/bot/try?c="))
                let id = try #require(Int(location.dropFirst("/admin/bot/try?c=".count)))

                let page = try await browser.get(location)
                #expect(page.status == .ok)
                #expect(page.text.contains("Сколько идёт доставка?"))
                #expect(page.text.contains("Доставка занимает от 2 до 6 дней."))
                #expect(page.text.contains("база знаний"))
                #expect(page.text.contains("<code>delivery-time</code>"))
                #expect(page.text.contains("Кандидаты"))
                #expect(page.text.contains("name=\"conversation\" value=\"\(id)\""))

                // The second message continues the same conversation.
                let again = try await browser.post("/admin/bot/try", ["text": "Как вернуть товар?", "conversation": String(id)])
                #expect(again.location == location)
                let stored = try await env.services.tenants.withTenant(tenant) { connection in
                    try await connection.value(
                        (Int, String).self, "SELECT count(*)::int, min(channel) FROM messages WHERE conversation_id = \(id)")
                }
                #expect(stored?.0 == 4 && stored?.1 == "test")
                let later = try await browser.get(location)
                #expect(later.text.contains("Вернуть товар можно в течение 14 дней."))
                #expect(later.text.contains("<code>returns</code>"))

                // An empty message keeps the page with a sentence; no CSRF field is refused.
                let blank = try await browser.post("/admin/bot/try", ["text": " ", "conversation": String(id)])
                #expect(blank.status == .unprocessableContent)
                #expect(blank.text.contains("Сначала напишите сообщение."))
                #expect(try await browser.post("/admin/bot/try", ["text": "привет"], csrf: "").status == .forbidden)
            }
        }
    }

    @Test func aShoppersRealConversationIsNeitherShownNorWrittenTo() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            let real = try await env.services.botEngine.reply(
                to: ShopperMessage(text: "Как вернуть товар?", channel: .widget, externalContactID: "visitor-1"), in: tenant)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", Self.password)
                #expect(try await browser.get("/admin/bot/try?c=\(real.conversationID)").status == .notFound)
                try await browser.get("/admin/bot/try")
                let posted = try await browser.post("/admin/bot/try", ["text": "hijack", "conversation": String(real.conversationID)])
                #expect(posted.status == .notFound)
            }
            let count = try await env.services.tenants.withTenant(tenant) { connection in
                try await connection.value(Int.self, "SELECT count(*)::int FROM messages WHERE text = 'hijack'")
            }
            #expect(count == 0)
        }
    }
}

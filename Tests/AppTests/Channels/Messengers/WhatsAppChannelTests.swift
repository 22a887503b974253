import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// A shop's bot connected to a fake WhatsApp Cloud API: Meta's verification, signed webhooks, statuses and the 24-hour
/// window.
@Suite("WhatsApp: connection, signed webhooks, statuses, the 24-hour window")
struct WhatsAppChannelTests {
    static let phone = "106540352242922"
    static let token = "EAAGm0PX4ZCpsBAKfake-access-token-0123456789"
    static let secret = "0123456789abcdef0123456789abcdef"

    struct Shop {
        let fake: FakeWhatsAppAPI
        let tenant: TenantRecord
        let connection: ChannelConnection
        let hooks: FakeWhatsAppAPI.Webhooks

        func post(
            _ client: any TestClientProtocol, _ payload: String, secret: String = WhatsAppChannelTests.secret
        ) async throws -> TestResponse {
            var headers: HTTPFields = [:]
            headers[HTTPField.Name("X-Forwarded-Host")!] = "tea.vitrina.test"
            headers[.contentType] = "application/json"
            headers[HTTPField.Name("X-Hub-Signature-256")!] = WhatsAppSignature.sign(Array(payload.utf8), appSecret: secret)
            return try await client.execute(uri: connection.webhookPath, method: .post, headers: headers, body: ByteBuffer(string: payload))
        }

        /// Waits up to 5 s for the first outbound message's send to be recorded.
        func waitWhileQueued(_ env: TestEnvironment) async throws {
            for _ in 0..<100 where try await deliveries(env).first?.0 == "queued" { try await Task.sleep(for: .milliseconds(50)) }
        }

        func deliveries(_ env: TestEnvironment) async throws -> [(String, String?)] {
            try await env.services.tenants.withTenant(tenant) {
                try await $0.values(
                    (String, String?).self, "SELECT delivery, delivery_error FROM messages WHERE author <> 'shopper' ORDER BY id")
            }
        }
    }

    static func withShop(_ body: @Sendable (TestEnvironment, Shop) async throws -> Void) async throws {
        let fake = FakeWhatsAppAPI()
        let base = try await fake.start()
        defer { Task { try? await fake.stop() } }
        try await TestEnvironment.with(configure: { $0.channels.whatsapp = base }) { env in
            let tenant = try await makeBotShop(env, "tea")
            fake.addNumber(phoneNumberID: phone, token: token, display: "+7 999 123-45-67")
            let botID = try #require(
                try await env.services.tenants.withTenant(tenant) { try await $0.value(Int.self, "SELECT min(id)::int FROM bots") })
            let connection = try await env.services.channelConnector.connect(
                .init(kind: .whatsapp, token: token, appSecret: secret, phoneNumberID: phone), botID: botID, in: tenant,
                logger: TestDatabase.logger)
            try await body(env, Shop(fake: fake, tenant: tenant, connection: connection, hooks: .init(phoneNumberID: phone)))
        }
    }

    @Test func metaVerifiesTheCallbackWithTheGeneratedToken() async throws {
        try await Self.withShop { env, shop in
            #expect(shop.connection.status == .active)
            #expect(shop.connection.settings.displayPhoneNumber == "+7 999 123-45-67")
            let verify = try #require(shop.connection.secrets.webhookSecret)
            try await env.withApp { client in
                let path = shop.connection.webhookPath
                let ok = try await client.get(
                    path + "?hub.mode=subscribe&hub.verify_token=\(verify)&hub.challenge=1158201444", host: "tea.vitrina.test")
                #expect(ok.status == .ok && ok.text == "1158201444")
                let wrong = try await client.get(
                    path + "?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444", host: "tea.vitrina.test")
                #expect(wrong.status == .forbidden)
            }
            // Reconnecting keeps the verify token pasted at Meta.
            let again = try await env.services.channelConnector.connect(
                .init(kind: .whatsapp, token: Self.token), botID: shop.connection.botID, in: shop.tenant, logger: TestDatabase.logger)
            #expect(again.secrets.webhookSecret == verify && again.webhookKey == shop.connection.webhookKey)
        }
    }

    @Test func aSignedMessageIsStoredOnceAnsweredAndItsStatusesFollow() async throws {
        try await Self.withShop { env, shop in
            let payload = shop.hooks.text(
                "Сколько идёт доставка?", from: "79161234567", name: "Анна", id: "wamid.HBgLNzkxNjEyMzQ1NjcVAgASGBQzQUZ")
            try await env.withApp { client in
                #expect(try await shop.post(client, payload, secret: "wrong-secret-0123456789abcdef").status == .forbidden)
                #expect(try await shop.post(client, payload).status == .ok)
                #expect(try await shop.post(client, payload).status == .ok)
                let sent = try await shop.fake.waitForSends(1, to: "79161234567")
                #expect(sent.count == 1)
                #expect(sent.first?.text?.contains("от 2 до 6 дней") == true)
                #expect(sent.first?.text?.contains("https://tea.vitrina.test/help/delivery") == true)
                let wamid = try #require(sent.first?.id)
                try await shop.waitWhileQueued(env)
                // Statuses move it forward; a late "delivered" never undoes "read".
                #expect(
                    try await shop.post(client, shop.hooks.status("delivered", messageID: wamid, recipient: "79161234567")).status == .ok)
                #expect(try await shop.deliveries(env).first?.0 == "delivered")
                #expect(try await shop.post(client, shop.hooks.status("read", messageID: wamid, recipient: "79161234567")).status == .ok)
                #expect(
                    try await shop.post(client, shop.hooks.status("delivered", messageID: wamid, recipient: "79161234567")).status == .ok)
                #expect(try await shop.deliveries(env).first?.0 == "read")
            }
            let (count, name) = try await env.services.tenants.withTenant(shop.tenant) { tenant in
                (
                    try await tenant.value(Int.self, "SELECT count(*)::int FROM messages WHERE author = 'shopper'"),
                    try await tenant.value(String.self, "SELECT name FROM contacts")
                )
            }
            #expect(count == 1 && name == "Анна")
        }
    }

    @Test func aFailedStatusKeepsTheReasonAndButtonRepliesAreWords() async throws {
        try await Self.withShop { env, shop in
            try await env.withApp { client in
                let reply = shop.hooks.buttonReply(title: "Как вернуть товар?", buttonID: "b1", from: "79160000001")
                #expect(try await shop.post(client, reply).status == .ok)
                let sent = try await shop.fake.waitForSends(1, to: "79160000001")
                #expect(sent.first?.text?.contains("14 дней") == true)
                let wamid = try #require(sent.first?.id)
                try await shop.waitWhileQueued(env)
                let failed = shop.hooks.status(
                    "failed", messageID: wamid, recipient: "79160000001",
                    error: (131026, "Message undeliverable", "The recipient's phone number is not a WhatsApp number"))
                #expect(try await shop.post(client, failed).status == .ok)
                let rows = try await shop.deliveries(env)
                #expect(rows.first?.0 == "failed")
                #expect(rows.first?.1?.contains("undeliverable") == true)
            }
        }
    }

    /// Meta can post a status before the send's own answer has been recorded (the webhook overtakes our write of the
    /// wamid). Such a report is kept and applied when the send is recorded; one for a wamid that never comes is forgotten.
    @Test func aStatusThatOvertakesTheSendIsAppliedWhenTheSendIsRecorded() async throws {
        try await Self.withShop { env, shop in
            try await env.withApp { client in
                let wamid = shop.fake.nextMessageID(to: "79160000003")
                #expect(
                    try await shop.post(client, shop.hooks.status("delivered", messageID: wamid, recipient: "79160000003")).status == .ok)
                #expect(try await shop.post(client, shop.hooks.status("read", messageID: wamid, recipient: "79160000003")).status == .ok)
                let stray = "wamid.HBgLNzkxNjAwMDAwMDAVAgARGBJGQUtFLU5FVkVSLVNFTlQA"
                #expect(try await shop.post(client, shop.hooks.status("sent", messageID: stray, recipient: "79160000003")).status == .ok)
                #expect(try await shop.post(client, shop.hooks.text("Сколько идёт доставка?", from: "79160000003")).status == .ok)
                let sent = try await shop.fake.waitForSends(1, to: "79160000003")
                #expect(sent.first?.id == wamid)
                try await shop.waitWhileQueued(env)
                #expect(try await shop.deliveries(env).first?.0 == "read")
            }
            let kept = try await env.services.tenants.withTenant(shop.tenant) { tenant in
                try await tenant.values(String.self, "SELECT channel_message_id FROM early_delivery_reports")
            }
            #expect(kept == ["wamid.HBgLNzkxNjAwMDAwMDAVAgARGBJGQUtFLU5FVkVSLVNFTlQA"])
            // The daily retention job forgets reports over an hour old.
            try await env.services.tenants.withTenant(shop.tenant) { tenant in
                try await tenant.execute("UPDATE early_delivery_reports SET received_at = now() - interval '2 hours'")
            }
            _ = try await env.services.retention.apply(shop.tenant, logger: TestDatabase.logger)
            let left = try await env.services.tenants.withTenant(shop.tenant) { tenant in
                try await tenant.value(Int.self, "SELECT count(*)::int FROM early_delivery_reports")
            }
            #expect(left == 0)
        }
    }

    @Test func outsideTheWindowOnlyATemplateGoes() async throws {
        try await Self.withShop { env, shop in
            try await env.withApp { client in
                #expect(try await shop.post(client, shop.hooks.text("Позовите оператора", from: "79160000002")).status == .ok)
                _ = try await shop.fake.waitForSends(1, to: "79160000002")
                // The hand-off's delivery recorded before the app stops (a later message waits for an earlier one).
                try await shop.waitWhileQueued(env)
            }
            let conversation = try #require(
                try await env.services.tenants.withTenant(shop.tenant) { tenant in
                    try await tenant.execute("UPDATE messages SET created_at = now() - interval '25 hours' WHERE author = 'shopper'")
                    return try await tenant.value(Int.self, "SELECT max(id)::int FROM conversations")
                })
            let user = try await env.makeUser("olga@tea.example", role: .operator, tenant: "tea").id
            let actions = InboxActions(tenants: env.services.tenants)
            // A free text is refused before it is stored; a template not approved too.
            await #expect(throws: InboxError.windowClosed) {
                try await actions.perform(.reply("Мы нашли ваш заказ"), conversation: conversation, user: user, in: shop.tenant)
            }
            await #expect(throws: InboxError.noTemplate) {
                try await actions.perform(.template("order_found"), conversation: conversation, user: user, in: shop.tenant)
            }
            let template = WhatsAppTemplate(name: "order_found", language: "ru", text: "Мы нашли ваш заказ. Ответьте, чтобы продолжить.")
            _ = try await env.services.channelConnector.connect(
                .init(kind: .whatsapp, templates: [template]), botID: shop.connection.botID, in: shop.tenant, logger: TestDatabase.logger)
            try await actions.perform(.template("order_found"), conversation: conversation, user: user, in: shop.tenant)
            _ = await env.worker().runDue()
            let sent = try await shop.fake.waitForSends(2, to: "79160000002")
            #expect(sent.last?.type == "template")
            #expect((sent.last?.object["template"] as? [String: Any])?["name"] as? String == "order_found")
            #expect(try await shop.deliveries(env).last?.0 == "sent")
            // A message that slipped in anyway (written before the window closed, sent after) fails with the sentence.
            try await env.services.tenants.withTenant(shop.tenant) { tenant in
                try await tenant.execute(
                    """
                    INSERT INTO messages (conversation_id, channel, author, text, delivery)
                    VALUES (\(conversation), 'whatsapp', 'bot', 'Поздний ответ', 'queued')
                    """)
            }
            _ = await env.worker().runDue()
            let rows = try await shop.deliveries(env)
            #expect(rows.last?.0 == "failed")
            #expect(rows.last?.1?.hasPrefix("window_closed: ") == true)
            #expect(shop.fake.sent.count == 2)
        }
    }
}

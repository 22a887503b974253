import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// A shop's Telegram bot connected to a fake Bot API: the set-up, the webhook as Telegram calls it, and the answer
/// delivered back through the job queue.
struct TelegramShop {
    let fake: FakeTelegramAPI
    let tenant: TenantRecord
    let connection: ChannelConnection
    let token: String
    let host: String

    /// Starts a fake Bot API, makes a shop with the bot's FAQ and connects its bot through the connector.
    static func make(_ env: TestEnvironment, fake: FakeTelegramAPI, slug: String, token: String) async throws -> TelegramShop {
        let tenant = try await makeBotShop(env, slug)
        fake.addBot(token: token, username: slug + "_shop_bot", id: Int64(abs(token.hashValue % 1_000_000)))
        let botID = try #require(
            try await env.services.tenants.withTenant(tenant) { try await $0.value(Int.self, "SELECT min(id)::int FROM bots") })
        let connection = try await env.services.channelConnector.connect(
            .init(kind: .telegram, token: token), botID: botID, in: tenant, logger: TestDatabase.logger)
        return TelegramShop(fake: fake, tenant: tenant, connection: connection, token: token, host: slug + ".vitrina.test")
    }

    /// POSTs an update to the webhook as Telegram does (the secret token in its header unless `secret` says otherwise).
    @discardableResult
    func post(
        _ client: any TestClientProtocol, _ update: String, secret: String? = nil, host: String? = nil, path: String? = nil
    )
        async throws -> TestResponse
    {
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("X-Forwarded-Host")!] = host ?? self.host
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("X-Telegram-Bot-Api-Secret-Token")!] = secret ?? fake.webhook(token: token)?.secretToken ?? ""
        return try await client.execute(
            uri: path ?? connection.webhookPath, method: .post, headers: headers, body: ByteBuffer(string: update))
    }

    /// The bot's messages to `chat` at the fake, after waiting (up to 10 s) until there are at least `count`.
    /// Waits up to 30 s (a retry after a 429 and a 5xx takes seconds, longer on a loaded 2-core machine), returning as
    /// soon as the replies are there.
    func replies(to chat: Int64, atLeast count: Int) async throws -> [FakeTelegramAPI.SentMessage] {
        for _ in 0..<600 {
            let sent = fake.sent(chat: String(chat)).filter { $0.token == token }
            if sent.count >= count { return sent }
            try await Task.sleep(for: .milliseconds(50))
        }
        return fake.sent(chat: String(chat)).filter { $0.token == token }
    }
}

@Suite("Telegram: connection, webhook, answers delivered")
struct TelegramChannelTests {
    static func withFake<T: Sendable>(
        _ body: @Sendable (TestEnvironment, FakeTelegramAPI) async throws -> T,
        configure: @escaping @Sendable (inout AppConfiguration) -> Void = { _ in }
    ) async throws -> T {
        let fake = FakeTelegramAPI()
        let base = try await fake.start()
        defer { Task { try? await fake.stop() } }
        return try await TestEnvironment.with(configure: {
            $0.channels.telegram = base
            configure(&$0)
        }) { env in try await body(env, fake) }
    }

    @Test func connectingChecksTheTokenAndSetsAnUnguessableWebhookWithASecret() async throws {
        try await Self.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: "123456:AAEtea-token-abcdefghijklmnopqrst")
            #expect(shop.connection.status == .active)
            #expect(shop.connection.settings.username == "tea_shop_bot")
            let hook = try #require(fake.webhook(token: shop.token))
            #expect(hook.url == "https://tea.vitrina.test/hooks/telegram/" + shop.connection.webhookKey)
            #expect(!hook.url.contains(shop.token))
            #expect((hook.secretToken?.count ?? 0) >= 32)
            #expect(hook.allowedUpdates == ["message", "edited_message", "callback_query"])
            // A bad token is refused with a sentence and nothing is set.
            let botID = shop.connection.botID
            let refused = try await env.services.channelConnector.connect(
                .init(kind: .telegram, token: "999:AAEunknown-token-abcdefghijklmnop"), botID: botID, in: shop.tenant,
                logger: TestDatabase.logger)
            #expect(refused.status == .failed && refused.statusDetail?.isEmpty == false)
            await #expect(throws: ChannelConnectionError.self) {
                try await env.services.channelConnector.connect(
                    .init(kind: .telegram, token: "not a token"), botID: botID, in: shop.tenant, logger: TestDatabase.logger)
            }
            // Disconnecting deletes the webhook at Telegram.
            try await env.services.channelConnector.disconnect(botID: botID, kind: .telegram, in: shop.tenant, logger: TestDatabase.logger)
            #expect(fake.calls("deleteWebhook") >= 1)
        }
    }

    @Test func anUpdateIsVerifiedStoredOnceAndAnsweredAtTelegram() async throws {
        try await Self.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: "123456:AAEtea-token-abcdefghijklmnopqrst")
            let shopper = FakeTelegramUpdates.Shopper(id: 555_001, firstName: "Анна", lastName: "Смирнова")
            let update = FakeTelegramUpdates.text("Сколько идёт доставка?", updateID: 9001, from: shopper)
            try await env.withApp { client in
                // A wrong or missing secret: 403, nothing stored.
                #expect(try await shop.post(client, update, secret: "wrong").status == .forbidden)
                #expect(try await shop.post(client, update, secret: "").status == .forbidden)
                // An unknown key: 404.
                #expect(
                    try await shop.post(client, update, path: "/hooks/telegram/" + String(repeating: "a", count: 32)).status == .notFound)
                #expect(try await shop.post(client, "{not json").status == .badRequest)
                // The update, twice (Telegram redelivers until it gets a 2xx): one message, one answer.
                #expect(try await shop.post(client, update).status == .ok)
                #expect(try await shop.post(client, update).status == .ok)
                let replies = try await shop.replies(to: shopper.id, atLeast: 1)
                #expect(replies.count == 1)
                let reply = try #require(replies.first)
                #expect(reply.plainText.contains("от 2 до 6 дней"))
                #expect(reply.parseMode == "HTML")
                // The FAQ's link became a URL button on the shop's own host.
                let buttons = reply.keyboard?.rows.flatMap { $0 } ?? []
                #expect(buttons.contains { $0.url == "https://tea.vitrina.test/help/delivery" })
                try await Task.sleep(for: .milliseconds(300))
                #expect(shop.fake.sent(chat: String(shopper.id)).count == 1)
            }
            let (messages, name, delivery) = try await env.services.tenants.withTenant(shop.tenant) { tenant in
                (
                    try await tenant.value(Int.self, "SELECT count(*)::int FROM messages WHERE channel = 'telegram'"),
                    try await tenant.value(String.self, "SELECT name FROM contacts"),
                    try await tenant.value(String.self, "SELECT delivery FROM messages WHERE author = 'bot'")
                )
            }
            #expect(messages == 2)
            #expect(name == "Анна Смирнова")
            #expect(delivery == "sent")
        }
    }

    @Test func startButtonsEditsAndAttachmentsAreUnderstood() async throws {
        try await Self.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: "123456:AAEtea-token-abcdefghijklmnopqrst")
            let shopper = FakeTelegramUpdates.Shopper(id: 555_002)
            try await env.withApp { client in
                #expect(
                    try await shop.post(client, FakeTelegramUpdates.start(payload: "promo42", updateID: 1, from: shopper)).status == .ok)
                let greeting = try await shop.replies(to: shopper.id, atLeast: 1)
                #expect(greeting.count == 1)
                // A pressed button: acknowledged in the webhook's answer, its data taken as the shopper's words.
                let pressed = try await shop.post(
                    client, FakeTelegramUpdates.callback(data: "Как вернуть товар?", updateID: 2, from: shopper, queryID: "q-77"))
                #expect(pressed.status == .ok)
                #expect(String(buffer: pressed.body).contains(#""callback_query_id":"q-77""#))
                let afterButton = try await shop.replies(to: shopper.id, atLeast: 2)
                #expect(afterButton.last?.plainText.contains("14 дней") == true)
                // An edited message is a new message, answered again.
                #expect(try await shop.post(client, FakeTelegramUpdates.edited("Сроки доставки", updateID: 3, from: shopper)).status == .ok)
                #expect(try await shop.replies(to: shopper.id, atLeast: 3).last?.plainText.contains("от 2 до 6 дней") == true)
                // A photo without a caption is kept for people and not answered.
                #expect(try await shop.post(client, FakeTelegramUpdates.photo(fileID: "ph-1", updateID: 4, from: shopper)).status == .ok)
                // A group chat is not the bot's business.
                #expect(try await shop.post(client, FakeTelegramUpdates.group("Привет", updateID: 5, from: shopper)).status == .ok)
                try await Task.sleep(for: .milliseconds(500))
                #expect(shop.fake.sent(chat: String(shopper.id)).count == 3)
            }
            let photo = try await env.services.tenants.withTenant(shop.tenant) { tenant in
                try await tenant.value(
                    String.self, "SELECT parts::text FROM messages WHERE channel_message_id = \("\(shop.connection.id):4")")
            }
            #expect(photo?.contains(#""file": "ph-1""#) == true)
        }
    }

    @Test func aWebhookForOneShopNeverTouchesAnother() async throws {
        try await Self.withFake { env, fake in
            let tea = try await TelegramShop.make(env, fake: fake, slug: "tea", token: "123456:AAEtea-token-abcdefghijklmnopqrst")
            let coffee = try await TelegramShop.make(env, fake: fake, slug: "coffee", token: "654321:AAEcoffee-token-abcdefghijklmnop")
            let shopper = FakeTelegramUpdates.Shopper(id: 555_003)
            let update = FakeTelegramUpdates.text("Сколько идёт доставка?", updateID: 1, from: shopper)
            try await env.withApp { client in
                // Coffee's key and secret on tea's host: tea has no such connection.
                let crossed = try await coffee.post(client, update, host: tea.host)
                #expect(crossed.status == .notFound)
                // Tea's key with coffee's secret: refused.
                let forged = try await tea.post(client, update, secret: fake.webhook(token: coffee.token)?.secretToken)
                #expect(forged.status == .forbidden)
            }
            for shop in [tea, coffee] {
                let count = try await env.services.tenants.withTenant(shop.tenant) {
                    try await $0.value(Int.self, "SELECT count(*)::int FROM messages")
                }
                #expect(count == 0)
            }
        }
    }
}

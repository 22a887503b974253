import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// Outbound messages on their way to a messenger: retries, `retry_after`, permanent refusals, rate limits, operators'
/// replies.
@Suite("Channels: delivery through the job queue")
struct ChannelDeliveryTests {
    static let token = "123456:AAEtea-token-abcdefghijklmnopqrst"

    /// The shopper asks for a person and has the bot's answer; the conversation, and an operator of the shop to reply in it.
    static func handedOff(
        _ env: TestEnvironment, _ shop: TelegramShop, _ shopper: FakeTelegramUpdates.Shopper, _ client: any TestClientProtocol
    ) async throws -> (conversation: Int, user: UUID) {
        try await shop.post(client, FakeTelegramUpdates.text("Позовите оператора", updateID: 1, from: shopper))
        _ = try await shop.replies(to: shopper.id, atLeast: 1)
        let conversation = try #require(
            try await env.services.tenants.withTenant(shop.tenant) {
                try await $0.value(Int.self, "SELECT max(id)::int FROM conversations")
            })
        return (conversation, try await env.makeUser("olga@tea.example", role: .operator, tenant: "tea").id)
    }

    /// The bot's message answering `update`'s message, once its delivery is settled (not queued), within 20 s.
    static func settled(_ env: TestEnvironment, _ shop: TelegramShop, timeout: Duration = .seconds(20)) async throws -> [(String, String?)]
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let rows = try await env.services.tenants.withTenant(shop.tenant) { tenant in
                try await tenant.values(
                    (String, String?).self, "SELECT delivery, delivery_error FROM messages WHERE author <> 'shopper' ORDER BY id")
            }
            if !rows.isEmpty, rows.allSatisfy({ $0.0 != "queued" }) || ContinuousClock.now > deadline { return rows }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test func a429IsWaitedOutAsTelegramAsksAndA5xxIsTriedAgain() async throws {
        try await TelegramChannelTests.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
            let shopper = FakeTelegramUpdates.Shopper(id: 700_001)
            fake.fail(next: 1, with: .tooManyRequests(retryAfter: 1), method: "sendMessage")
            fake.fail(next: 1, with: .serverError, method: "sendMessage")
            try await env.withApp { client in
                let started = ContinuousClock.now
                try await shop.post(client, FakeTelegramUpdates.text("Сколько идёт доставка?", updateID: 1, from: shopper))
                let replies = try await shop.replies(to: shopper.id, atLeast: 1)
                #expect(replies.count == 1)
                #expect(ContinuousClock.now - started >= .seconds(1))
                #expect(fake.calls("sendMessage") == 3)
            }
            #expect(try await Self.settled(env, shop).map(\.0) == ["sent"])
        }
    }

    @Test func aFloodWaitHoldsTheBotsOtherMessagesToo() async throws {
        try await TelegramChannelTests.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
            let first = FakeTelegramUpdates.Shopper(id: 700_011)
            let second = FakeTelegramUpdates.Shopper(id: 700_012)
            fake.fail(next: 1, with: .tooManyRequests(retryAfter: 2), method: "sendMessage")
            try await env.withApp { client in
                try await shop.post(client, FakeTelegramUpdates.text("Сколько идёт доставка?", updateID: 1, from: first))
                for _ in 0..<200 where fake.calls("sendMessage") == 0 { try await Task.sleep(for: .milliseconds(25)) }
                let refused = ContinuousClock.now
                try await Task.sleep(for: .milliseconds(200))
                // Another shopper's answer, queued after Telegram said to wait, waits too instead of asking again.
                try await shop.post(client, FakeTelegramUpdates.text("Как вернуть товар?", updateID: 2, from: second))
                let reply = try await shop.replies(to: second.id, atLeast: 1)
                #expect(try #require(reply.first).instant - refused >= .milliseconds(1700))
                #expect(try await shop.replies(to: first.id, atLeast: 1).count == 1)
                #expect(fake.calls("sendMessage") == 3)
            }
        }
    }

    @Test func aShopperWhoBlockedTheBotIsAFailureWithASentenceNotARetry() async throws {
        try await TelegramChannelTests.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
            let shopper = FakeTelegramUpdates.Shopper(id: 700_002)
            fake.block(chat: String(shopper.id))
            try await env.withApp { client in
                try await shop.post(client, FakeTelegramUpdates.text("Сколько идёт доставка?", updateID: 1, from: shopper))
                let rows = try await Self.settled(env, shop)
                #expect(rows.map(\.0) == ["failed"])
                #expect(rows.first?.1?.hasPrefix("blocked: ") == true)
                #expect(fake.calls("sendMessage") == 1)
            }
        }
    }

    @Test func oneChatGetsAtMostTheChatRateAcrossMessages() async throws {
        try await TelegramChannelTests.withFake(
            { env, fake in
                let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
                let shopper = FakeTelegramUpdates.Shopper(id: 700_003)
                try await env.withApp { client in
                    for id in 1...3 {
                        try await shop.post(
                            client, FakeTelegramUpdates.text("Сколько идёт доставка? \(id)", updateID: Int64(id), from: shopper))
                    }
                    let replies = try await shop.replies(to: shopper.id, atLeast: 3)
                    #expect(replies.count == 3)
                    let times = replies.map(\.instant).sorted()
                    // 2 messages a second to one chat: the slots are 0.5 s apart; what reaches Telegram also varies by each
                    // send's own latency, so the span is checked with a little slack, and no two sends come together.
                    #expect(times[2] - times[0] >= .milliseconds(850))
                    for (a, b) in zip(times, times.dropFirst()) { #expect(b - a >= .milliseconds(250)) }
                }
            },
            configure: { $0.channels.telegramChatPerSecond = 2 })
    }

    @Test func quickRepliesReachTheShopperInTheOrderTheyWereWritten() async throws {
        try await TelegramChannelTests.withFake(
            { env, fake in
                let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
                let shopper = FakeTelegramUpdates.Shopper(id: 700_021)
                try await env.withApp { client in
                    let (conversation, user) = try await Self.handedOff(env, shop, shopper, client)
                    let actions = InboxActions(tenants: env.services.tenants)
                    for n in 1...5 {
                        try await actions.perform(.reply("Ответ \(n)"), conversation: conversation, user: user, in: shop.tenant)
                    }
                    let replies = try await shop.replies(to: shopper.id, atLeast: 6)
                    #expect(replies.dropFirst().map(\.plainText) == (1...5).map { "Ответ \($0)" })
                }
            },
            configure: { $0.channels.telegramChatPerSecond = 1000 })
    }

    @Test func anOperatorsReplyGoesOutAndANoteNever() async throws {
        try await TelegramChannelTests.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
            let shopper = FakeTelegramUpdates.Shopper(id: 700_004)
            try await env.withApp { client in
                let (conversation, user) = try await Self.handedOff(env, shop, shopper, client)
                let actions = InboxActions(tenants: env.services.tenants)
                try await actions.perform(.note("только для своих"), conversation: conversation, user: user, in: shop.tenant)
                try await actions.perform(
                    .reply("Здравствуйте! Чем помочь? <b>сейчас</b>"), conversation: conversation, user: user, in: shop.tenant)
                let replies = try await shop.replies(to: shopper.id, atLeast: 2)
                #expect(replies.count == 2)
                #expect(replies.last?.plainText == "Здравствуйте! Чем помочь? <b>сейчас</b>")
                try await Task.sleep(for: .milliseconds(300))
                #expect(fake.sent(chat: String(shopper.id)).count == 2)
            }
        }
    }

    /// A long reply goes as two messages; when the second is refused for longer than the client waits in place, the job's
    /// retry sends only the second: the shopper never reads the first twice.
    @Test func aLongReplyThatFailsHalfWaySendsOnlyTheRestOnItsRetry() async throws {
        try await TelegramChannelTests.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
            let shopper = FakeTelegramUpdates.Shopper(id: 700_005)
            try await env.withApp { client in
                let (conversation, user) = try await Self.handedOff(env, shop, shopper, client)
                let long = (1...80).map { "Пункт \($0): доставка по городу занимает один-два дня, по области до пяти." }
                    .joined(separator: " ")
                #expect(long.count > 4096 && long.count < 8000)
                // The first part goes, the second is told to wait 4 s: longer than the client waits in place.
                fake.fail(next: 1, with: .tooManyRequests(retryAfter: 4), method: "sendMessage", after: 1)
                try await InboxActions(tenants: env.services.tenants).perform(
                    .reply(long), conversation: conversation, user: user, in: shop.tenant)
                let replies = try await shop.replies(to: shopper.id, atLeast: 3)
                try await Task.sleep(for: .milliseconds(300))
                let sent = fake.sent(chat: String(shopper.id))
                #expect(sent.count == 3)
                let readsOnce = sent.dropFirst().map(\.plainText).joined(separator: " ") == long
                #expect(readsOnce, "the shopper reads the reply's two parts once each, in order")
                #expect(replies.count == 3)
                #expect(fake.calls("sendMessage") == 4)
            }
            let last = try await env.services.tenants.withTenant(shop.tenant) { tenant in
                try await tenant.value(
                    (String, String?, [String]?).self,
                    "SELECT delivery, channel_message_id, sent_parts FROM messages WHERE author = 'operator' ORDER BY id DESC LIMIT 1")
            }
            #expect(last?.0 == "sent" && last?.2 == nil)
            // The message is known by its first part (what a shopper's reply to it quotes).
            #expect(last?.1?.hasSuffix(":700005:2") == true)
        }
    }
}

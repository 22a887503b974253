import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// Fuzzes the three messenger webhooks of a connected bot through the whole application on a real database: forged,
/// malformed, oversized, misaddressed requests and ones with another method or format. No request may get a 5xx;
/// every refused kind gets a 4xx; nothing is stored; and afterwards the webhook still takes a genuine update (so it
/// was live throughout). The seed and the rounds are printed; `VITRINA_FUZZ_SEED` replays a run and
/// `VITRINA_FUZZ_ROUNDS` (60 by default) makes it longer.
@Suite("Webhook fuzz: no 5xx, forged and malformed requests refused, nothing stored")
struct WebhookFuzzTests {
    /// `MessengerWebhookController`'s body limit (Telegram's and WhatsApp's updates are a few KB).
    static let messengerBodyLimit = 1 << 20

    @Test func telegram() async throws {
        try await Self.withTarget(.telegram) { try await Self.fuzz($0, env: $1, tenant: $2, stream: 1) }
    }

    @Test func whatsApp() async throws {
        try await Self.withTarget(.whatsapp) { try await Self.fuzz($0, env: $1, tenant: $2, stream: 2) }
    }

    @Test func alice() async throws {
        try await Self.withTarget(.alice) { try await Self.fuzz($0, env: $1, tenant: $2, stream: 3) }
    }

    /// Runs `body` with a shop whose bot is connected to `kind` (Telegram and WhatsApp through their fakes), and the
    /// target that addresses its webhook.
    static func withTarget(
        _ kind: ChannelKind, _ body: @escaping @Sendable (FuzzTarget, TestEnvironment, TenantRecord) async throws -> Void
    ) async throws {
        switch kind {
        case .telegram:
            try await TelegramChannelTests.withFake { env, fake in
                let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: "123456:AAEtea-token-abcdefghijklmnopqrst")
                let secret = try #require(fake.webhook(token: shop.token)?.secretToken)
                let target = FuzzTarget(
                    provider: .telegram(secret: secret), kind: .telegram, key: shop.connection.webhookKey, host: shop.host,
                    bodyLimit: Self.messengerBodyLimit)
                try await body(target, env, shop.tenant)
            }
        case .whatsapp:
            try await WhatsAppChannelTests.withShop { env, shop in
                let verifyToken = try #require(shop.connection.secrets.webhookSecret)
                let target = FuzzTarget(
                    provider: .whatsapp(
                        appSecret: WhatsAppChannelTests.secret, verifyToken: verifyToken, phoneNumberID: WhatsAppChannelTests.phone),
                    kind: .whatsapp, key: shop.connection.webhookKey, host: "tea.vitrina.test", bodyLimit: Self.messengerBodyLimit)
                try await body(target, env, shop.tenant)
            }
        case .alice:
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                let connection = try await connectAlice(env, tenant)
                let target = FuzzTarget(
                    provider: .alice(skillID: testSkillID), kind: .alice, key: connection.webhookKey, host: "tea.vitrina.test",
                    bodyLimit: AliceWebhookController.bodyLimit)
                try await body(target, env, tenant)
            }
        }
    }

    /// The shop's rows the webhooks write: what the fuzz must leave as it found them.
    struct StoredRows: Equatable {
        var messages: Int
        var shopperMessages: Int
        var conversations: Int
        var contacts: Int

        static func read(_ env: TestEnvironment, _ tenant: TenantRecord) async throws -> StoredRows {
            let counts = try await env.services.tenants.withTenant(tenant) { connection in
                try await connection.value(
                    (Int, Int, Int, Int).self,
                    """
                    SELECT (SELECT count(*) FROM messages)::int, (SELECT count(*) FROM messages WHERE author = 'shopper')::int,
                        (SELECT count(*) FROM conversations)::int, (SELECT count(*) FROM contacts)::int
                    """)
            }
            let (messages, shopper, conversations, contacts) = try #require(counts)
            return StoredRows(messages: messages, shopperMessages: shopper, conversations: conversations, contacts: contacts)
        }
    }

    /// Runs the rounds against `target`, then one genuine update.
    static func fuzz(_ target: FuzzTarget, env: TestEnvironment, tenant: TenantRecord, stream: UInt64) async throws {
        let settings = FuzzSettings.fromEnvironment()
        let seed = "0x" + String(settings.seed, radix: 16)
        print("Webhook fuzz, \(target.kind.rawValue): seed \(seed) (stream \(stream)), \(settings.rounds) rounds")
        let before = try await StoredRows.read(env, tenant)
        try await env.withApp { client in
            var random = SplitMix64(seed: settings.seed &+ stream)
            try await Self.rounds(target, settings: settings, client: client, random: &random)
            #expect(try await StoredRows.read(env, tenant) == before, "a fuzzed request stored something (seed \(seed))")

            // The endpoint was live all along: a genuine update, signed, is taken and stored once.
            let genuine = target.genuine(&random).json.bytes
            let response = try await client.execute(
                uri: target.path, method: .post, headers: target.headers(signing: genuine), body: ByteBuffer(bytes: genuine))
            #expect(response.status == .ok)
            let after = try await StoredRows.read(env, tenant)
            #expect(after.shopperMessages == before.shopperMessages + 1)
            #expect(after.conversations == before.conversations + 1)
            // The bot's answer is stored with it (Alice) or follows through the job queue (Telegram, WhatsApp).
            #expect((1...2).contains(after.messages - before.messages))
        }
    }

    /// The fuzz's requests, each checked as it is answered.
    static func rounds(
        _ target: FuzzTarget, settings: FuzzSettings, client: any TestClientProtocol, random: inout SplitMix64
    ) async throws {
        let seed = "0x" + String(settings.seed, radix: 16)
        var tally: [String: Int] = [:]
        for round in 0..<settings.rounds {
            let fuzz = target.nextCase(round: round, random: &random)
            let response = try await client.execute(
                uri: fuzz.path, method: fuzz.method, headers: fuzz.headers, body: ByteBuffer(bytes: fuzz.body))
            let status = response.status.code
            if settings.verbose { print("\(target.kind.rawValue) round \(round) \(fuzz.category.rawValue): \(fuzz.label) → \(status)") }
            let what = Comment(
                rawValue: "\(target.kind.rawValue) seed \(seed) round \(round), \(fuzz.category.rawValue): \(fuzz.label) → \(status)")
            #expect(status < 500, what)
            switch fuzz.expectation {
            case .refused: #expect((400..<500).contains(status), what)
            case .harmless: #expect((200..<300).contains(status) || (400..<500).contains(status), what)
            }
            if let exactly = fuzz.exactly { #expect(Int(status) == exactly, what) }
            // A correctly signed request refused as forged would mean the fuzz signs wrongly and proves nothing.
            if fuzz.signed { #expect(status != 403, what) }
            tally["\(fuzz.category.rawValue) \(status)", default: 0] += 1
        }
        print(
            "Webhook fuzz, \(target.kind.rawValue): "
                + tally.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))
    }
}

import AsyncHTTPClient
import Foundation
import NIOPosix
import Testing

@testable import App

#if canImport(Glibc)
import Glibc
#endif

/// The channels' promises with the real `vitrina` binary (issue 13, items 5 and 6): a server killed with SIGKILL
/// mid-stream and restarted loses no update and answers each once (a duplicate only from a kill between the
/// provider's acceptance and our commit); two processes on one database share the webhooks and the deliveries, and the
/// bot's rate limit holds across them. The test process plays Telegram: the fake Bot API, and the webhook calls.
@Suite("Channels: kill -9 and two processes, against the vitrina binary", .serialized)
struct ChannelDurabilityTests {
    static let token = "424242:AAEdurable-token-abcdefghijklmnop"

    /// A fake Bot API, a test database with a shop whose bot is connected to it, an HTTP client and a folder for the
    /// processes' files.
    static func withConnectedShop(
        _ body: @Sendable (TestEnvironment, FakeTelegramAPI, TelegramShop, HTTPClient, TemporaryFolder, String) async throws -> Void
    ) async throws {
        let fake = FakeTelegramAPI()
        let base = try await fake.start()
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(10))
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let folder = try TemporaryFolder()
        do {
            try await TestEnvironment.with(configure: { $0.channels.telegram = base }) { env in
                let shop = try await TelegramShop.make(env, fake: fake, slug: "durable", token: Self.token)
                try await body(env, fake, shop, http, folder, base)
            }
        } catch {
            try? await http.shutdown()
            try? await fake.stop()
            throw error
        }
        try await http.shutdown()
        try await fake.stop()
    }

    static func sender(_ shop: TelegramShop, _ http: HTTPClient) throws -> TelegramWebhookSender {
        let secret = try #require(shop.fake.webhook(token: shop.token)?.secretToken)
        return TelegramWebhookSender(http: http, path: shop.connection.webhookPath, host: shop.host, secret: secret)
    }

    /// Jobs not finished yet, and jobs that failed for good.
    static func jobs(_ env: TestEnvironment) async throws -> (open: Int, failed: Int) {
        let row = try await env.services.database.value(
            (Int, Int).self,
            """
            SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int, count(*) FILTER (WHERE status = 'failed')::int
            FROM platform.jobs WHERE kind IN ('bot.answer', 'channel.deliver')
            """)
        return row ?? (0, 0)
    }

    /// Waits until every job is done and `expected` messages reached the fake, and nothing more arrives for a moment.
    static func waitUntilQuiet(_ env: TestEnvironment, _ fake: FakeTelegramAPI, expected: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var stable = 0
        var last = -1
        while ContinuousClock.now < deadline {
            let count = fake.sentCount
            let open = try await jobs(env).open
            stable = count == last && open == 0 && count >= expected ? stable + 1 : 0
            if stable >= 10 { return }
            last = count
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test func killedWithSIGKILLMidStreamItLosesNoUpdateAndAnswersEachOnce() async throws {
        try await Self.withConnectedShop { env, fake, shop, http, folder, base in
            let port = try VitrinaServerProcess.freePort()
            let server = VitrinaServerProcess(
                "serve", port: port, database: env.url, folder: folder,
                variables: [
                    "VITRINA_TELEGRAM_API_URL": base, "VITRINA_TELEGRAM_RATE": "1000", "VITRINA_TELEGRAM_CHAT_RATE": "1000",
                ])
            try await VitrinaServerProcess.stopping([server]) {
                try await server.start(http: http)
                let sender = try Self.sender(shop, http)
                let total = 150
                let kills = [35, 75, 115]
                // One shopper per update (its own chat), so each reply says which update it answers.
                let updates = (1...total).map { i in
                    FakeTelegramUpdates.text(
                        "Сколько идёт доставка?", updateID: Int64(i), from: .init(id: 880_000 + Int64(i), firstName: "Покупатель \(i)"))
                }
                let accepted = Locked(0)
                let resent = Locked(0)
                let started = ContinuousClock.now
                // Telegram's side: three updates at a time, each sent again until it gets a 200.
                let senders = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for lane in 0..<3 {
                            group.addTask {
                                for index in stride(from: lane, to: total, by: 3) {
                                    let failures = try await sender.deliver(updates[index], port: { port })
                                    resent.withLock { $0 += failures }
                                    accepted.withLock { $0 += 1 }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                // The killer: SIGKILL when so many updates were accepted (answers are being written and sent meanwhile),
                // then the dead process's leases end as time would end them (60 s), and a new process starts.
                // A duplicate can only be a delivery the killed process had leased (sent, maybe, but not yet recorded):
                // their number at each kill bounds the duplicates.
                let inFlight = Locked(0)
                for threshold in kills {
                    while accepted.withLock({ $0 }) < threshold { try await Task.sleep(for: .milliseconds(5)) }
                    let dead = server.pid
                    await server.kill9()
                    let leased = try await env.services.database.value(
                        Int.self,
                        """
                        SELECT count(*)::int FROM platform.jobs WHERE kind = 'channel.deliver' AND status = 'running'
                            AND leased_by LIKE '%:' || \(String(dead)) || ':%'
                        """)
                    inFlight.withLock { $0 += leased ?? 0 }
                    try await env.services.database.execute(
                        """
                        UPDATE platform.jobs SET run_at = now()
                        WHERE status = 'running' AND leased_by LIKE '%:' || \(String(dead)) || ':%'
                        """)
                    try await server.start(http: http)
                }
                try await senders.value
                try await Self.waitUntilQuiet(env, fake, expected: total, timeout: .seconds(40))
                // Telegram redelivers what it is not sure of: an update accepted before is a no-op that still answers 200.
                for index in stride(from: 0, to: total, by: 15) { #expect(await sender.post(updates[index], port: port) == 200) }
                try await Task.sleep(for: .milliseconds(500))
                await server.terminate()

                let sent = fake.sent(token: shop.token)
                var perChat: [String: Int] = [:]
                for message in sent { perChat[message.chat, default: 0] += 1 }
                let lost = (1...total).filter { perChat[String(880_000 + $0)] == nil }
                let duplicates = perChat.values.map { max(0, $0 - 1) }.reduce(0, +)
                let (stored, answers, notSent) = try await env.services.tenants.withTenant(shop.tenant) { tenant in
                    (
                        try await tenant.value(Int.self, "SELECT count(*)::int FROM messages WHERE author = 'shopper'") ?? 0,
                        try await tenant.value(Int.self, "SELECT count(*)::int FROM messages WHERE author = 'bot'") ?? 0,
                        try await tenant.value(Int.self, "SELECT count(*)::int FROM messages WHERE author = 'bot' AND delivery <> 'sent'")
                            ?? 0
                    )
                }
                let jobs = try await Self.jobs(env)
                print(
                    "kill -9 × \(kills.count) (processes \(server.pids.map(String.init).joined(separator: ", "))): \(total) updates accepted "
                        + "in \(ContinuousClock.now - started), \(resent.withLock { $0 }) webhook calls re-sent after no 200; "
                        + "\(sent.count) replies at the fake, lost \(lost.count), duplicates \(duplicates) (deliveries in flight at the kills: "
                        + "\(inFlight.withLock { $0 }))")
                #expect(server.pids.count == kills.count + 1)
                #expect(resent.withLock { $0 } > 0, "the kills happened while updates were being sent")
                #expect(lost.isEmpty, "updates with no reply: \(lost)")
                #expect(duplicates <= inFlight.withLock { $0 })
                #expect(Set(perChat.keys).count == total)
                #expect(stored == total && answers == total && notSent == 0)
                #expect(jobs.open == 0 && jobs.failed == 0)
            }
        }
    }

    @Test func twoProcessesShareTheWorkAndTheBotsRateLimitHoldsAcrossThem() async throws {
        try await Self.withConnectedShop { env, fake, shop, http, folder, base in
            let rate = 5
            let variables = [
                "VITRINA_TELEGRAM_API_URL": base, "VITRINA_TELEGRAM_RATE": "\(rate)", "VITRINA_TELEGRAM_CHAT_RATE": "1000",
            ]
            let ports = [try VitrinaServerProcess.freePort(), try VitrinaServerProcess.freePort()]
            let servers = ports.map { VitrinaServerProcess("serve", port: $0, database: env.url, folder: folder, variables: variables) }
            try await VitrinaServerProcess.stopping(servers) {
                for server in servers { try await server.start(http: http) }
                let sender = try Self.sender(shop, http)
                let total = 40
                // Which processes hold delivery leases while the burst drains: both should.
                let sampling = Task {
                    var seen = Set<String>()
                    while !Task.isCancelled {
                        let holders =
                            (try? await env.services.database.values(
                                String.self,
                                "SELECT DISTINCT split_part(leased_by, ':', 2) FROM platform.jobs WHERE status = 'running' AND kind = 'channel.deliver'"
                            )) ?? []
                        seen.formUnion(holders)
                        try? await Task.sleep(for: .milliseconds(25))
                    }
                    return seen
                }
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 1...total {
                        let update = FakeTelegramUpdates.text(
                            "Сроки доставки", updateID: Int64(i), from: .init(id: 990_000 + Int64(i), firstName: "Покупатель \(i)"))
                        // Odd updates to one process, even ones to the other.
                        let port = ports[i % 2]
                        group.addTask { _ = try await sender.deliver(update, port: { port }) }
                    }
                    try await group.waitForAll()
                }
                try await Self.waitUntilQuiet(env, fake, expected: total, timeout: .seconds(45))
                let drained = ContinuousClock.now - started
                sampling.cancel()
                let holders = await sampling.value
                for server in servers { await server.terminate() }

                let sent = fake.sent(token: shop.token).sorted { $0.instant < $1.instant }
                var perChat: [String: Int] = [:]
                for message in sent { perChat[message.chat, default: 0] += 1 }
                // The busiest second anywhere in the run: for each send, the sends in the second that starts with it.
                var busiest = 0
                var start = 0
                for end in sent.indices {
                    while sent[end].instant - sent[start].instant >= .seconds(1) { start += 1 }
                    busiest = max(busiest, end - start + 1)
                }
                let span = sent.count > 1 ? sent[sent.count - 1].instant - sent[0].instant : .zero
                let ideal = Duration.milliseconds(1000 * (total - 1) / rate)
                print(
                    "Two processes (ports \(ports[0]), \(ports[1]); delivery leases seen held by processes \(holders.sorted())): "
                        + "\(sent.count) replies to \(total) updates, first to last send \(span) (\(ideal) at exactly \(rate)/s), "
                        + "all delivered \(drained) after the first update; busiest 1-second window \(busiest) sends (limit \(rate))")
                #expect(sent.count == total)
                #expect(perChat.count == total && perChat.values.allSatisfy { $0 == 1 })
                #expect(busiest <= rate + 1, "the bot's \(rate)/s limit was exceeded across the two processes")
                #expect(holders.count == 2, "both processes ran deliveries")
                let jobs = try await Self.jobs(env)
                #expect(jobs.open == 0 && jobs.failed == 0)
            }
        }
    }
}

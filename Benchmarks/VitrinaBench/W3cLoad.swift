import App
import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// One shop of W3c: its bot's token at the fake, its webhook as the connector set it, and what the ceiling's script
/// needs from the database.
struct W3cShop: Sendable {
    var index: Int
    var token: String
    var host: String
    var path: String
    var secret: String

    /// The chat of the shop's `k`-th shopper (the id Telegram gives a private chat is the user's).
    func chat(_ k: Int) -> Int64 { Int64(index) * 100_000 + Int64(k) }
}

/// W3c's open-loop generator: Telegram's webhook calls at a fixed rate whatever the server answers, each recorded with
/// when it was sent, how long the webhook took and its status; the replies are the fake's `sendMessage`s.
struct W3cLoad: Sendable {
    let http: HTTPClient
    let port: Int
    let shops: [W3cShop]
    let fake: FakeTelegramAPI
    /// Shoppers per shop; message `n` goes to shop `n % shops`, shopper `(n / shops) % chats`.
    let chats: Int

    struct Send: Sendable {
        var shop: Int
        var chat: Int64
        var at: ContinuousClock.Instant
        var webhookMs: Double
        var status: Int
    }

    struct Result {
        var offered: Double
        var seconds: Double
        var sends: [Send]
        var latencies: [Double]
        var repliesInWindow: Int
        var unanswered: Int
        var non200: Int
        var generatorLagMs: Double
        var repliesPerSecond: Double { Double(repliesInWindow) / seconds }
        var webhookP99: Double { Stats.percentile(sends.filter { $0.status == 200 }.map(\.webhookMs), 0.99) }
    }

    static func make(port: Int, shops: [W3cShop], fake: FakeTelegramAPI, chats: Int) -> W3cLoad {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        return W3cLoad(http: http, port: port, shops: shops, fake: fake, chats: chats)
    }

    func shutdown() async throws { try await http.shutdown() }

    /// Sends `rate` messages a second for `seconds`, numbering updates from `firstUpdate`; then waits up to `grace`
    /// seconds for the replies and matches them to the messages (per chat, in order).
    func run(rate: Double, seconds: Double, firstUpdate: Int, grace: Double = 20) async -> Result {
        fake.clearSent()
        let total = Int(rate * seconds)
        let sends = Recorder(count: total)
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for n in 0..<total {
                let due = start + .nanoseconds(Int64(Double(n) * 1e9 / rate))
                if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
                sends.late(Stats.ms(ContinuousClock.now - due))
                let shop = shops[n % shops.count]
                let chat = shop.chat((n / shops.count) % chats)
                let update = FakeTelegramUpdates.text(
                    ShopperQuestions.question(client: Int(chat % 1000), n: n), updateID: Int64(firstUpdate + n),
                    from: .init(id: chat, firstName: "Покупатель"))
                group.addTask {
                    let at = ContinuousClock.now
                    let status = await post(update, shop: shop)
                    let send = Send(shop: shop.index, chat: chat, at: at, webhookMs: Stats.ms(ContinuousClock.now - at), status: status)
                    sends.record(send, at: n)
                }
            }
        }
        let sent = sends.all
        let accepted = sent.filter { $0.status == 200 }.count
        _ = try? await fake.waitForSent(count: accepted, timeout: .seconds(grace))
        let windowEnd = start + .nanoseconds(Int64(seconds * 1e9))
        let replies = fake.sent
        var byChat: [String: [ContinuousClock.Instant]] = [:]
        for reply in replies { byChat[reply.token + "|" + reply.chat, default: []].append(reply.instant) }
        byChat = byChat.mapValues { $0.sorted() }
        var latencies: [Double] = []
        var unanswered = 0
        var next: [String: Int] = [:]
        for send in sent.sorted(by: { $0.at < $1.at }) where send.status == 200 {
            let key = shops[send.shop - 1].token + "|" + String(send.chat)
            let k = next[key, default: 0]
            next[key] = k + 1
            guard let instants = byChat[key], k < instants.count else {
                unanswered += 1
                continue
            }
            latencies.append(Stats.ms(instants[k] - send.at))
        }
        return Result(
            offered: rate, seconds: seconds, sends: sent, latencies: latencies,
            repliesInWindow: replies.filter { $0.instant <= windowEnd }.count, unanswered: unanswered,
            non200: sent.count - accepted + (total - sent.count), generatorLagMs: sends.lag)
    }

    /// The calls made so far, and how late the generator was at worst.
    final class Recorder: Sendable {
        private let state: Mutex<(sends: [Send?], lag: Double)>

        init(count: Int) { state = Mutex((Array(repeating: nil, count: count), 0)) }
        func record(_ send: Send, at index: Int) { state.withLock { $0.sends[index] = send } }
        func late(_ ms: Double) { state.withLock { $0.lag = max($0.lag, ms) } }
        var all: [Send] { state.withLock { $0.sends.compactMap { $0 } } }
        var lag: Double { state.withLock { $0.lag } }
    }

    /// One webhook call as Telegram makes it; the status, or 0 when the call failed.
    func post(_ update: String, shop: W3cShop) async -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)" + shop.path)
        request.method = .POST
        request.headers.add(name: "Host", value: shop.host)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Telegram-Bot-Api-Secret-Token", value: shop.secret)
        request.body = .bytes(ByteBuffer(string: update))
        guard let response = try? await http.execute(request, timeout: .seconds(30)) else { return 0 }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }
}

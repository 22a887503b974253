import AsyncHTTPClient
import Foundation
import NIOCore

/// W3a's load: `clients` concurrent shoppers' clients, each sending one message at a time to
/// `POST /api/v1/bot/messages` on the shops' own hosts with the shop's key. Client `c`'s `n`-th message goes to shop
/// `(c + 64 n) mod 100`, so at any moment the messages in flight are on different shops and every shop is visited in
/// turn; each client keeps one conversation per shop (its first message names a contact and opens one, the later ones
/// pass the conversation's id).
struct ShopperLoad {
    let port: Int
    /// The shops' API keys (bot:write), shop `i` at index `i - 1`.
    let keys: [String]
    let clients: Int
    let client: HTTPClient
    /// Conversation ids by client and shop, kept across phases and modes.
    var conversations: [[Int: Int]]

    struct Result: Sendable {
        var latencies: [Double] = []
        var non2xx = 0
        var errors = 0
        var steps: [String: Int] = [:]
        var texts: Set<String> = []
        var wrongShop = 0
        var seconds = 0.0
        /// The last reply's step and conversation.
        var reply: (step: String?, conversation: Int?)?

        var messagesPerSecond: Double { Double(latencies.count) / max(seconds, 0.001) }

        mutating func merge(_ other: Result) {
            latencies += other.latencies
            non2xx += other.non2xx
            errors += other.errors
            steps.merge(other.steps, uniquingKeysWith: +)
            texts.formUnion(other.texts)
            wrongShop += other.wrongShop
        }
    }

    init(port: Int, keys: [String], clients: Int) {
        self.port = port
        self.keys = keys
        self.clients = clients
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: clients)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        conversations = Array(repeating: [:], count: clients)
        sent = Array(repeating: 0, count: clients)
    }

    func shop(client c: Int, n: Int) -> Int { (c + clients * n) % keys.count + 1 }

    /// Opens every client's conversations: each client's first message to each shop it visits (`keys.count /
    /// gcd(clients, keys.count)` shops). Not measured.
    mutating func open() async -> Result {
        let visits = keys.count / gcd(clients, keys.count)
        return await run(messages: visits, seconds: nil)
    }

    /// Sends messages for `seconds` (or `messages` per client) and returns what happened; each client's question and
    /// shop sequence continues across calls.
    mutating func run(messages: Int? = nil, seconds: Double?) async -> Result {
        let deadline = seconds.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
        let started = ContinuousClock.now
        let snapshot = self
        let outcomes = await withTaskGroup(of: (Int, Result, [Int: Int]).self) { group in
            for c in 0..<clients {
                group.addTask {
                    var own = snapshot.conversations[c]
                    var result = Result()
                    var n = snapshot.sent[c]
                    var count = 0
                    while true {
                        if let messages, count >= messages { break }
                        if let deadline, ContinuousClock.now >= deadline { break }
                        let shop = snapshot.shop(client: c, n: n)
                        let text = ShopperQuestions.question(client: c, n: n)
                        await snapshot.send(text, shop: shop, client: c, conversations: &own, into: &result)
                        n += 1
                        count += 1
                    }
                    return (c, result, own)
                }
            }
            var all: [(Int, Result, [Int: Int])] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        var total = Result()
        for (c, result, own) in outcomes {
            conversations[c] = own
            sent[c] += result.latencies.count + result.non2xx + result.errors
            total.merge(result)
        }
        total.seconds = Stats.ms(ContinuousClock.now - started) / 1000
        return total
    }

    /// Messages each client has sent so far (its position in the question and shop sequence).
    var sent: [Int] = []

    /// One message in client `c`'s conversation with `shop`; the reply's step and conversation.
    func one(_ text: String, shop: Int, client c: Int) async -> (step: String?, conversation: Int?)? {
        var own = conversations[c]
        var result = Result()
        await send(text, shop: shop, client: c, conversations: &own, into: &result)
        return result.reply
    }

    private func send(_ text: String, shop: Int, client c: Int, conversations: inout [Int: Int], into result: inout Result) async {
        var body: [String: Any] = ["text": text]
        if let id = conversations[shop] { body["conversation"] = id } else { body["contact"] = "shopper-\(c)-\(shop)" }
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/bot/messages")
        request.method = .POST
        request.headers.add(name: "Host", value: "s\(shop).bench.test")
        request.headers.add(name: "Authorization", value: "Bearer " + keys[shop - 1])
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: (try? JSONSerialization.data(withJSONObject: body)) ?? Data()))
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let elapsed = Stats.ms(ContinuousClock.now - started)
            guard (200..<300).contains(Int(response.status.code)) else {
                result.non2xx += 1
                return
            }
            result.latencies.append(elapsed)
            result.texts.insert(text)
            let reply = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
            result.reply = (reply["step"] as? String, reply["conversation"] as? Int)
            if let id = reply["conversation"] as? Int { conversations[shop] = id }
            result.steps[(reply["step"] as? String) ?? "none", default: 0] += 1
            // An answer from knowledge carries its shop's mark; another shop's mark would be a leak.
            if let answer = reply["text"] as? String, answer.contains("[s"), !answer.contains("[s\(shop)]") { result.wrongShop += 1 }
        } catch {
            result.errors += 1
        }
    }

    func shutdown() async throws { try await client.shutdown() }
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

import App
import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// W3b: widget event streams held open on one server process (two browser tabs per conversation), the memory each
/// costs, and how long an operator's reply takes to reach every stream of its conversation while 200 conversations
/// exchange messages (operators through the conversations API, shoppers through the widget API).
extension Bench {
    /// Arrival times of replies at streams, by the reply's text.
    final class Arrivals: Sendable {
        private let state = Mutex<(arrived: [String: [ContinuousClock.Instant]], connected: Int)>(([:], 0))

        func arrived(_ text: String) { state.withLock { $0.arrived[text, default: []].append(.now) } }
        func connected() { state.withLock { $0.connected += 1 } }
        var connectedCount: Int { state.withLock { $0.connected } }
        func times(_ text: String) -> [ContinuousClock.Instant] { state.withLock { $0.arrived[text] ?? [] } }
    }

    /// The replies sent (text, when) and the requests that failed.
    final class Sent: Sendable {
        private let state = Mutex<(replies: [(String, ContinuousClock.Instant)], failures: Int)>(([], 0))

        func reply(_ text: String, at: ContinuousClock.Instant) { state.withLock { $0.replies.append((text, at)) } }
        func failed() { state.withLock { $0.failures += 1 } }
        var replies: [(String, ContinuousClock.Instant)] { state.withLock { $0.replies } }
        var failures: Int { state.withLock { $0.failures } }
    }

    mutating func w3b() async throws {
        let streams = options.w3bStreams
        let conversations = streams / 2
        let active = min(200, conversations)
        say("\n== W3b: \(streams) widget event streams on one process (2 per conversation), \(active) conversations exchanging messages ==")
        raiseOpenFileLimit()
        try await createDatabase("bench_w3b")
        let (key, opened) = try await seedW3b(conversations: conversations)
        let server = try ProcessRunner.spawn(
            [options.vitrina, "serve", "--port", "\(options.port)", "--base-domain", "bench.test", "--no-migrate", "--no-workers"],
            environment: ProcessInfo.processInfo.environment.merging([
                "DATABASE_URL": urlString("bench_w3b"), "LOG_LEVEL": "warning", "VITRINA_DATA_DIR": options.workdir + "/server",
                "VITRINA_EMBEDDINGS_URL": "off", "VITRINA_API_RATE_LIMIT": "100000", "VITRINA_DB_POOL_SIZE": "40",
                // Every bench client comes from 127.0.0.1: the per-address limits are not what is measured.
                "VITRINA_WIDGET_ADDRESS_LIMIT": "1000000",
            ]) { $1 }, outputPath: options.workdir + "/server-w3b.log")
        defer { ProcessRunner.terminate(server) }
        guard waitForServer() else {
            say("The server did not start; see \(options.workdir)/server-w3b.log")
            return
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(300), concurrentHTTP1ConnectionsPerHostSoftLimit: streams + 400)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() }
        let before = residentKB(server)
        let arrivals = Arrivals()
        let port = options.port
        let readers = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<streams {
                    let (id, token) = opened[index / 2]
                    group.addTask { await Self.follow(http, port: port, conversation: id, token: token, arrivals: arrivals) }
                }
            }
        }
        defer { readers.cancel() }
        let opening = ContinuousClock.now
        while arrivals.connectedCount < streams, ContinuousClock.now - opening < .seconds(120) {
            try await Task.sleep(for: .milliseconds(200))
        }
        let openSeconds = Stats.ms(ContinuousClock.now - opening) / 1000
        try await Task.sleep(for: .seconds(2))
        let after = residentKB(server)
        say(
            "Open streams: \(arrivals.connectedCount) of \(streams) in \(Stats.f(openSeconds, 1)) s; server memory \(before / 1024) MB → "
                + "\(after / 1024) MB: \(Stats.f(Double(after - before) / Double(max(1, arrivals.connectedCount)), 1)) KB per stream")

        // The exchange: each active conversation's operator replies about once a second, its shopper every fourth round
        // (within the widget's 20 messages a minute per visitor).
        let duration = Double(options.w3aDuration)
        let sent = Sent()
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<active {
                let (id, token) = opened[index]
                group.addTask {
                    // Operators do not all press "send" at the same instant: each starts at its own moment of the first second.
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 0...1000)))
                    var round = 0
                    while Stats.ms(ContinuousClock.now - started) / 1000 < duration {
                        round += 1
                        let text = "reply \(id)-\(round)"
                        let at = ContinuousClock.now
                        if await Self.post(http, port: port, path: "/api/v1/conversations/\(id)/messages", token: key, body: ["text": text])
                        {
                            sent.reply(text, at: at)
                        } else {
                            sent.failed()
                        }
                        if round % 4 == 0 {
                            let shopper = ["text": "спасибо \(round)", "client_id": "w3b-\(id)-\(round)"]
                            if !(await Self.post(http, port: port, path: "/widget/api/messages", token: token, body: shopper)) {
                                sent.failed()
                            }
                        }
                        try? await Task.sleep(for: .milliseconds(Int.random(in: 700...1300)))
                    }
                }
            }
        }
        try await Task.sleep(for: .seconds(2))
        let replies = sent.replies
        var latencies: [Double] = []
        var missing = 0
        for (text, at) in replies {
            let times = arrivals.times(text)
            missing += max(0, 2 - times.count)
            latencies += times.map { Stats.ms($0 - at) }
        }
        say(
            "W3b: \(replies.count) operator replies in \(Stats.f(duration, 0)) s to \(active) conversations (\(replies.count * 2) deliveries "
                + "expected): reply → stream p50 \(Stats.f(Stats.percentile(latencies, 0.5), 1)) ms, "
                + "p99 \(Stats.f(Stats.percentile(latencies, 0.99), 1)) ms, max \(Stats.f(latencies.max() ?? 0, 1)) ms; "
                + "missed \(missing); failed requests \(sent.failures); streams still open \(arrivals.connectedCount)")
    }

    /// One widget tab: follows the conversation's stream, noting when each operator reply arrives; reconnects (from the
    /// last id) if the stream ends.
    static func follow(_ http: HTTPClient, port: Int, conversation: Int, token: String, arrivals: Arrivals) async {
        var last: Int?
        var counted = false
        while !Task.isCancelled {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/widget/api/events?conversation=\(conversation)")
            request.headers.add(name: "Host", value: "w3b.bench.test")
            request.headers.add(name: "Authorization", value: "Bearer " + token)
            if let last { request.headers.add(name: "Last-Event-ID", value: String(last)) }
            do {
                let response = try await http.execute(request, timeout: .seconds(3600))
                var pending = ""
                for try await buffer in response.body {
                    pending += String(buffer: buffer)
                    while let end = pending.range(of: "\n\n") {
                        let event = String(pending[..<end.lowerBound])
                        pending = String(pending[end.upperBound...])
                        if event.hasPrefix("event: state"), !counted {
                            counted = true
                            arrivals.connected()
                        }
                        if let idLine = event.split(separator: "\n").first(where: { $0.hasPrefix("id: ") }) {
                            last = Int(idLine.dropFirst(4))
                        }
                        if event.hasPrefix("event: message"), let range = event.range(of: "\"text\":\"reply ") {
                            let text = event[range.upperBound...].prefix { $0 != "\"" }
                            arrivals.arrived("reply " + text)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    static func post(_ http: HTTPClient, port: Int, path: String, token: String, body: [String: String]) async -> Bool {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Host", value: "w3b.bench.test")
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: (try? JSONSerialization.data(withJSONObject: body)) ?? Data()))
        guard let response = try? await http.execute(request, timeout: .seconds(30)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return (200..<300).contains(Int(response.status.code))
    }

    /// One shop `w3b` with an operator, a conversations key acting as them, and `conversations` widget visitors each with
    /// a conversation the operator holds (so the bot stays quiet and every message is a person's).
    func seedW3b(conversations: Int) async throws -> (key: String, opened: [(Int, String)]) {
        let started = ContinuousClock.now
        let result = try await withServices("bench_w3b") { services -> (String, [(Int, String)]) in
            let id = try await services.provisioner.provision(
                NewTenant(slug: "w3b", name: "W3b", branding: Branding(name: "W3b", primaryColor: "#336699", defaultLanguage: "ru"))
            ).id
            _ = try await services.userAdmin.create(
                email: "operator@w3b.test", name: "Оператор", role: .operator, scope: .tenant(slug: "w3b"),
                password: "bench-operator-password-7")
            guard let user = try await services.users.find(email: "operator@w3b.test") else { throw BenchError.seed("no operator") }
            let key = try await services.apiKeys.create(
                owner: .tenant(id), name: "bench", scopes: [.conversationsWrite, .conversationsRead], createdBy: user.id,
                audit: AuditEntry(actorID: nil, actorEmail: nil, tenantID: id, action: "api_key.created", target: "bench", address: nil)
            ).token
            try await services.directory.reload()
            guard let tenant = services.directory.snapshot.tenantsBySlug["w3b"] else { throw BenchError.seed("no shop") }
            var opened: [(Int, String)] = []
            for _ in 0..<conversations {
                let pair = try await services.tenants.withTenant(tenant) { connection -> (Int, String) in
                    let (token, visitor) = try await WidgetVisitors().create(on: connection)
                    guard let bot = try await BotStore().find(id: nil, on: connection) else { throw BenchError.seed("no bot") }
                    let store = ConversationStore()
                    let conversation = try await store.open(
                        botID: bot.id, contactID: visitor.contactID, channel: .widget, reuse: false, on: connection)
                    try await store.apply(.take(operator: user.id), to: conversation, on: connection)
                    return (conversation.id, token)
                }
                opened.append(pair)
            }
            return (key, opened)
        }
        say(
            "Seeded one shop, an operator and \(conversations) widget conversations in \(Stats.f(Stats.ms(ContinuousClock.now - started) / 1000, 1)) s"
        )
        return result
    }

    /// The server's resident memory in KB (`VmRSS`), 0 when unknown.
    func residentKB(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Thousands of sockets need more descriptors than a shell's default 1,024 (the server inherits the limit).
    func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = min(limit.rlim_max, 65_536)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

enum BenchError: Error {
    case seed(String)
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The WhatsApp Cloud API on loopback, as Meta documents it, for the tests, `make run`, the CLI and the benchmark:
/// numbers with their access tokens, `POST /<id>/messages` validated as the real API validates it (400 with code 100
/// otherwise), the 24-hour window (131047), scripted faults, media, `GET /<id>?fields=…`, and every send recorded. It
/// also plays Meta's part towards a webhook: `deliver` POSTs a payload signed with `X-Hub-Signature-256`.
public final class FakeWhatsAppAPI: Sendable {
    /// One message the fake accepted.
    public struct Sent: Sendable {
        public var phoneNumberID: String
        public var to: String
        /// `text`, `interactive`, `template`…
        public var type: String
        /// The request's body as it came.
        public var json: String
        /// The id the fake answered with.
        public var id: String
        public var at: Date

        /// The body as a JSON object.
        public var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:] }
        /// A text's body, or an interactive message's body text.
        public var text: String? {
            let object = object
            return (object["text"] as? [String: Any])?["body"] as? String
                ?? ((object["interactive"] as? [String: Any])?["body"] as? [String: Any])?["text"] as? String
        }
        /// An interactive message's reply buttons' or list rows' titles.
        public var choices: [String] {
            guard let interactive = object["interactive"] as? [String: Any], let action = interactive["action"] as? [String: Any] else {
                return []
            }
            let buttons = (action["buttons"] as? [[String: Any]] ?? []).compactMap { ($0["reply"] as? [String: Any])?["title"] as? String }
            let rows = (action["sections"] as? [[String: Any]] ?? []).flatMap { $0["rows"] as? [[String: Any]] ?? [] }
            return buttons + rows.compactMap { $0["title"] as? String }
        }
    }

    /// A failure the fake plays instead of answering.
    public enum Fault: Sendable, Equatable {
        /// 400 with code 130429, "Rate limit hit".
        case rateLimited
        /// 500 with Graph's transient error (code 2).
        case serverError
        /// The connection closed without an answer.
        case closeConnection
    }

    /// The wait for sends ran out.
    public struct Timeout: Error, CustomStringConvertible {
        public let description: String
    }

    struct Number {
        var token: String
        var display: String
        var verifiedName: String
    }

    struct Media {
        var bytes: [UInt8]
        var mime: String
    }

    struct State {
        var numbers: [String: Number] = [:]
        var tokens: Set<String> = []
        var closedWindows: Set<String> = []
        /// Scripted answers for the next requests in turn: nil lets one through.
        var faults: [Fault?] = []
        var media: [String: Media] = [:]
        var sent: [Sent] = []
        var counter = 0
        var origin = ""
        var channel: (any Channel)?
        /// `make run`'s demo: any phone number id with any token is a number (its first token is its own after).
        var anyNumber = false
    }

    let state = Mutex(State())
    /// The Graph version the base URL names, as the real one's does.
    public let version: String

    public init(version: String = "v21.0") {
        self.version = version
    }

    /// Listens on 127.0.0.1 (`port` 0: any free port); returns the base URL to configure (`http://127.0.0.1:<port>/v21.0`).
    @discardableResult
    public func start(port: Int = 0) async throws -> String {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeWhatsAppHandler(api: self))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        guard let bound = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        let origin = "http://127.0.0.1:\(bound)"
        state.withLock {
            $0.channel = channel
            $0.origin = origin
        }
        return origin + "/" + version
    }

    /// Stops listening (connections open now end with their clients).
    public func stop() async throws {
        let channel = state.withLock { state in
            defer { state.channel = nil }
            return state.channel
        }
        try await channel?.close().get()
    }

    /// Registers a business phone number the fake sends from, reachable with `token`.
    public func addNumber(phoneNumberID: String, token: String, display: String = "+7 999 000-00-00", verifiedName: String = "Shop") {
        state.withLock {
            $0.numbers[phoneNumberID] = Number(token: token, display: display, verifiedName: verifiedName)
            $0.tokens.insert(token)
        }
    }

    /// Takes any phone number id (digits) with the first token presented for it, as `make run`'s demo needs.
    public func acceptAnyNumber() {
        state.withLock { $0.anyNumber = true }
    }

    /// Registers an unknown number on its first use when the demo asked for that.
    func adopt(_ id: String, token: String) {
        state.withLock { state in
            guard state.anyNumber, state.numbers[id] == nil, !id.isEmpty, id.allSatisfy(\.isNumber), !token.isEmpty else { return }
            state.numbers[id] = Number(token: token, display: "+7 900 000-00-00", verifiedName: "Demo shop")
            state.tokens.insert(token)
        }
    }

    /// Makes non-template sends to `waID` fail with 131047, as when the shopper wrote last more than 24 hours ago.
    public func closeWindow(for waID: String) {
        _ = state.withLock { $0.closedWindows.insert(waID) }
    }

    /// The shopper wrote again: the window is open.
    public func openWindow(for waID: String) {
        _ = state.withLock { $0.closedWindows.remove(waID) }
    }

    /// The next `n` requests fail with `fault`, after the faults already scripted and then `after` requests let through.
    public func fail(next n: Int, with fault: Fault, after: Int = 0) {
        state.withLock { $0.faults += Array(repeating: nil, count: max(0, after)) + Array(repeating: fault, count: max(0, n)) }
    }

    /// A file a shopper sent, for `GET /<media id>` and its download URL.
    public func addMedia(id: String, bytes: [UInt8], mime: String) {
        state.withLock { $0.media[id] = Media(bytes: bytes, mime: mime) }
    }

    /// Every message accepted so far, in order.
    public var sent: [Sent] { state.withLock { $0.sent } }

    /// How many messages were accepted, without copying them.
    public var sentCount: Int { state.withLock { $0.sent.count } }

    /// Forgets the messages accepted so far (a long benchmark keeps memory flat).
    public func clearSent() {
        state.withLock { $0.sent.removeAll(keepingCapacity: true) }
    }

    /// Waits until at least `count` messages were accepted (to `to`, when given) and returns them.
    public func waitForSends(_ count: Int, to: String? = nil, timeout: Duration = .seconds(10)) async throws -> [Sent] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let matching = sent.filter { to == nil || $0.to == to }
            if matching.count >= count { return matching }
            guard ContinuousClock.now < deadline else {
                throw Timeout(description: "\(matching.count) of \(count) WhatsApp messages arrived within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// POSTs `payload` to a webhook as Meta does: JSON, signed with `X-Hub-Signature-256` under `appSecret`; returns
    /// the status. `headers` go along (a shop's `Host`).
    public func deliver(
        payload: String, to url: String, appSecret: String, headers: [(String, String)] = [], client: HTTPClient = .shared
    ) async throws -> Int {
        let body = Array(payload.utf8)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "facebookexternalua")
        request.headers.add(name: WhatsAppSignature.header, value: WhatsAppSignature.sign(body, appSecret: appSecret))
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }
}

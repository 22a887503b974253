import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The Telegram Bot API on loopback, for tests, `make run`, the CLI's simulator and the benchmark: bots registered by
/// token, the methods the channel uses (validated as the real API does), files, scripted faults, and every
/// `sendMessage` recorded with its arrival time. `deliver` plays Telegram's part towards a bot's webhook.
public final class FakeTelegramAPI: Sendable {
    /// A scripted failure of the next calls.
    public enum Fault: Sendable, Equatable {
        /// 429 with `parameters.retry_after`.
        case tooManyRequests(retryAfter: Int)
        /// 500 Internal Server Error.
        case serverError
        /// The connection is closed without an answer.
        case closeConnection
    }

    /// A bot's webhook, as `setWebhook` left it.
    public struct Webhook: Sendable, Equatable {
        public var url: String
        public var secretToken: String?
        public var allowedUpdates: [String]?
        public var dropPendingUpdates: Bool
        public var maxConnections: Int?
    }

    /// One `sendMessage` the fake accepted.
    public struct SentMessage: Sendable {
        public var token: String
        public var chat: String
        public var messageID: Int64
        /// The text as sent (HTML when `parseMode` is `HTML`).
        public var text: String
        /// The text as the shopper sees it (entities parsed).
        public var plainText: String
        public var parseMode: String?
        /// `reply_markup` as JSON, when there was one.
        public var replyMarkup: String?
        public var at: Date
        public var instant: ContinuousClock.Instant

        /// `reply_markup` as a JSON object.
        public var keyboard: TelegramKeyboard? {
            replyMarkup.flatMap { try? JSONDecoder().decode(TelegramKeyboard.self, from: Data($0.utf8)) }
        }
    }

    /// One `answerCallbackQuery`, by the API or in a webhook's answer.
    public struct CallbackAnswer: Sendable, Equatable {
        public var token: String
        public var queryID: String
        public var text: String?
    }

    struct Bot: Sendable {
        var username: String
        var id: Int64
        var webhook: Webhook?
    }

    struct State: Sendable {
        var bots: [String: Bot] = [:]
        var files: [String: (path: String, bytes: [UInt8])] = [:]
        var sent: [SentMessage] = []
        var lastMessageID: [String: Int64] = [:]
        /// Scripted answers, in order: a fault, or nil to let one call through.
        var faults: [(fault: Fault?, method: String?)] = []
        var blocked: Set<String> = []
        var missing: Set<String> = []
        var known: Set<String> = []
        var knownChatsOnly = false
        var answers: [CallbackAnswer] = []
        var calls: [String: Int] = [:]
        var channel: (any Channel)?
        var client: HTTPClient?
        var ownsClient = false
        var webhookRoute: String?
        /// `make run`'s demo: any well-formed token is a bot (named after its id).
        var anyToken = false
    }

    let state = Mutex(State())

    /// `client` delivers updates to webhooks; without one the fake makes its own at `start` and shuts it down at `stop`.
    public init(client: HTTPClient? = nil) {
        state.withLock { $0.client = client }
    }

    /// Starts listening on 127.0.0.1; returns the base URL (`http://127.0.0.1:PORT`) for `VITRINA_TELEGRAM_API_URL`.
    public func start(port: Int = 0) async throws -> String {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeTelegramHandler(api: self))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        state.withLock { state in
            state.channel = channel
            if state.client == nil {
                var configuration = HTTPClient.Configuration()
                configuration.redirectConfiguration = .disallow
                configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
                state.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
                state.ownsClient = true
            }
        }
        guard let port = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        return "http://127.0.0.1:\(port)"
    }

    /// Stops listening (and shuts the webhook client down if the fake made it).
    public func stop() async throws {
        let (channel, client) = state.withLock { state in
            defer {
                state.channel = nil
                if state.ownsClient { state.client = nil }
                state.ownsClient = false
            }
            return (state.channel, state.ownsClient ? state.client : nil)
        }
        try? await client?.shutdown()
        try await channel?.close().get()
    }

    // MARK: Set-up

    /// Takes any token shaped like Telegram's (`<digits>:<35 and more of A-Za-z0-9_->`) as a bot named `demo_<id>_bot`, as
    /// `make run`'s demo needs: the shops' demo tokens are made up.
    public func acceptAnyToken() {
        state.withLock { $0.anyToken = true }
    }

    /// Registers a bot: calls with any other token are answered 401.
    public func addBot(token: String, username: String, id: Int64) {
        state.withLock { $0.bots[token] = Bot(username: username, id: id) }
    }

    /// A file `getFile` finds by `id` and `/file/bot<token>/<path>` serves.
    public func addFile(id: String, path: String, bytes: [UInt8]) {
        state.withLock { $0.files[id] = (path, bytes) }
    }

    /// The next `count` calls (of `method` only, when given) fail so, after `after` such calls went through.
    public func fail(next count: Int, with fault: Fault, method: String? = nil, after: Int = 0) {
        let method = method?.lowercased()
        state.withLock { $0.faults += Array(repeating: (nil, method), count: after) + Array(repeating: (fault, method), count: count) }
    }

    /// Messages to `chat` are refused with 403 "Forbidden: bot was blocked by the user".
    public func block(chat: String) {
        state.withLock { _ = $0.blocked.insert(chat) }
    }

    /// Messages to `chat` are refused with 400 "Bad Request: chat not found".
    public func remove(chat: String) {
        state.withLock { _ = $0.missing.insert(chat) }
    }

    /// With `true`, only chats added here or seen in a delivered update can be written to; others get "chat not found".
    public func requireKnownChats(_ on: Bool = true) {
        state.withLock { $0.knownChatsOnly = on }
    }

    /// A chat the bots may write to when `requireKnownChats` is on.
    public func addChat(_ chat: String) {
        state.withLock { _ = $0.known.insert(chat) }
    }

    /// Updates are POSTed to `base` (`http://127.0.0.1:PORT`) with the webhook URL's path and its host in `Host`, as a
    /// proxy in front of the shop's hosts would: the webhook keeps the shop's real address.
    public func routeWebhooks(to base: String?) {
        state.withLock { $0.webhookRoute = base }
    }

    // MARK: What happened

    /// A bot's webhook as `setWebhook` set it.
    public func webhook(token: String) -> Webhook? {
        state.withLock { $0.bots[token]?.webhook }
    }

    /// Every accepted `sendMessage`, in arrival order.
    public var sent: [SentMessage] { state.withLock { $0.sent } }

    public var sentCount: Int { state.withLock { $0.sent.count } }

    public func sent(token: String) -> [SentMessage] { state.withLock { $0.sent.filter { $0.token == token } } }

    public func sent(chat: String) -> [SentMessage] { state.withLock { $0.sent.filter { $0.chat == chat } } }

    /// Calls of `method` so far (any outcome).
    public func calls(_ method: String) -> Int { state.withLock { $0.calls[method.lowercased()] ?? 0 } }

    /// Callback queries answered.
    public var callbackAnswers: [CallbackAnswer] { state.withLock { $0.answers } }

    /// Forgets the messages recorded so far.
    public func clearSent() {
        state.withLock { $0.sent.removeAll(keepingCapacity: true) }
    }

    /// Waits until at least `count` messages (for `token` and `chat`, when given) arrived; returns them.
    @discardableResult
    public func waitForSent(
        count: Int, token: String? = nil, chat: String? = nil, timeout: Duration = .seconds(5)
    ) async throws -> [SentMessage] {
        let deadline = ContinuousClock.now + timeout
        while true {
            // Counting without copying keeps the lock short while a benchmark sends thousands a second.
            let (found, matching) = state.withLock { state -> ([SentMessage]?, Int) in
                let matches = { (sent: SentMessage) in (token == nil || sent.token == token) && (chat == nil || sent.chat == chat) }
                let matching = token == nil && chat == nil ? state.sent.count : state.sent.count(where: matches)
                return (matching >= count ? state.sent.filter(matches) : nil, matching)
            }
            if let found { return found }
            guard ContinuousClock.now < deadline else { throw FakeTelegramTimeout(expected: count, found: matching) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// `waitForSent` ran out of time.
public struct FakeTelegramTimeout: Error, CustomStringConvertible {
    public var expected: Int
    public var found: Int

    public var description: String { "waited for \(expected) sendMessage calls, \(found) arrived" }
}

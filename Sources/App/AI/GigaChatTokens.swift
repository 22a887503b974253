import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Synchronization

/// GigaChat's access tokens for one authorization key, by OAuth client credentials: a token is kept until a minute
/// before it expires, and one fetch serves every call that waits meanwhile.
actor GigaChatTokens {
    struct Token: Sendable {
        var value: String
        var expires: Date
    }

    /// How long before its expiry a token is replaced.
    static let margin: TimeInterval = 60

    private let http: ChatHTTP
    private let url: String
    private let scope: String
    private let key: String
    private let clock: WallClock
    private let fetchTimeout: Duration
    private var current: Token?
    private var fetching: Task<Token, any Error>?

    /// `key` is the authorization key GigaChat's console gives (base64 of the client id and secret); `fetchTimeout`
    /// bounds a fetch, which runs on for the calls that wait even when the one that started it is cancelled.
    init(http: ChatHTTP, url: String, scope: String, key: String, clock: WallClock, fetchTimeout: Duration) {
        self.http = http
        self.url = url
        self.scope = scope
        var key = key.trimmingCharacters(in: .whitespacesAndNewlines)
        if key.lowercased().hasPrefix("basic ") { key = String(key.dropFirst("basic ".count)) }
        self.key = key
        self.clock = clock
        self.fetchTimeout = fetchTimeout
    }

    /// A token good for a minute more at least. `refused` (a token the API answered 401 to) is dropped first, unless a
    /// newer one has come meanwhile. A fetch ends by the deadline of the call that started it (so that its failure, not
    /// a timeout, reaches that call); a call that waited with a later deadline starts another when it timed out.
    /// Waiting ends as soon as the calling task is cancelled.
    func token(replacing refused: String? = nil, deadline: ContinuousClock.Instant, logger: Logger) async throws -> String {
        if let refused, current?.value == refused { current = nil }
        while true {
            if let current, current.expires.timeIntervalSince(clock.now()) > Self.margin { return current.value }
            let task = fetching ?? startFetch(deadline: min(deadline, .now + fetchTimeout), logger: logger)
            do {
                return try await CancellableWait.value(of: task).value
            } catch ChatModelError.timeout where ContinuousClock.now < deadline {
                continue
            }
        }
    }

    private func startFetch(deadline: ContinuousClock.Instant, logger: Logger) -> Task<Token, any Error> {
        let task = Task {
            defer { self.fetching = nil }
            let token = try await Self.fetch(
                http: http, url: url, scope: scope, key: key, deadline: deadline, now: clock.now(), logger: logger)
            self.current = token
            return token
        }
        fetching = task
        return task
    }

    /// `POST {authURL}` with `Authorization: Basic <key>`, `RqUID` and the form `scope=…`; the answer is
    /// `{"access_token", "expires_at"}`.
    static func fetch(
        http: ChatHTTP, url: String, scope: String, key: String, deadline: ContinuousClock.Instant, now: Date, logger: Logger
    ) async throws -> Token {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        // (?) RqUID, a UUID4 naming the request (required), rests on one source: GigaChat's API reference.
        request.headers.add(name: "RqUID", value: UUID().uuidString.lowercased())
        request.headers.add(name: "Authorization", value: "Basic \(key)")
        let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        request.body = .bytes(ByteBuffer(string: "scope=" + (scope.addingPercentEncoding(withAllowedCharacters: unreserved) ?? scope)))
        let reply = try await http.send(request, deadline: deadline)
        guard reply.isSuccess else {
            logger.notice(
                "GigaChat refused the token request",
                metadata: ["status": "\(reply.status)", "message": "\(ChatHTTP.message(in: reply.body, hiding: [key]))"])
            switch reply.status {
            // A key it does not know, or a scope the key does not have.
            case 400, 401, 403: throw ChatModelError.badKey
            case 404: throw ChatModelError.unavailable("its OAuth address answered HTTP 404")
            default: throw ChatModelError(status: reply.status, headers: reply.headers, body: reply.body, model: "")
            }
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(reply.body.readableBytesView)), !answer.accessToken.isEmpty
        else { throw ChatModelError.malformed("its OAuth answer has no access_token") }
        return Token(value: answer.accessToken, expires: expiry(answer.expiresAt, now: now))
    }

    /// (?) `expires_at` in milliseconds since 1970 rests on one source (GigaChat's reference and the clients that
    /// follow it): a value too small for milliseconds is read as seconds. Without one, the documented 30 minutes.
    static func expiry(_ expiresAt: Double?, now: Date) -> Date {
        guard let expiresAt, expiresAt > 0 else { return now.addingTimeInterval(30 * 60) }
        return Date(timeIntervalSince1970: expiresAt >= 100_000_000_000 ? expiresAt / 1000 : expiresAt)
    }

    struct Answer: Decodable {
        var accessToken: String
        var expiresAt: Double?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case expiresAt = "expires_at"
        }
    }
}

/// Waits for a task that others share, giving up (with `CancellationError`) as soon as the waiting task is
/// cancelled: the shared task goes on for the rest.
enum CancellableWait {
    private enum State<T: Sendable> {
        case waiting
        case finished
        case suspended(CheckedContinuation<T, any Error>)
    }

    private final class Waiter<T: Sendable>: Sendable {
        let state = Mutex<State<T>>(.waiting)

        /// The continuation, once: whoever takes it resumes it.
        func take(cancelling: Bool) -> CheckedContinuation<T, any Error>? {
            state.withLock { state in
                switch state {
                case .suspended(let continuation):
                    state = .finished
                    return continuation
                case .waiting:
                    if cancelling { state = .finished }
                    return nil
                case .finished:
                    return nil
                }
            }
        }
    }

    static func value<T: Sendable>(of task: Task<T, any Error>) async throws -> T {
        let waiter = Waiter<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let cancelled = waiter.state.withLock { state in
                    guard case .waiting = state else { return true }
                    state = .suspended(continuation)
                    return false
                }
                guard !cancelled else { return continuation.resume(throwing: CancellationError()) }
                Task {
                    let result = await task.result
                    waiter.take(cancelling: false)?.resume(with: result)
                }
            }
        } onCancel: {
            waiter.take(cancelling: true)?.resume(throwing: CancellationError())
        }
    }
}

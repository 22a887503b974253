import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// GigaChat on loopback: `POST /api/v2/oauth` (Basic authorization key, `RqUID`, form `scope=…`) issues numbered tokens
/// that expire at `expiresAt` (milliseconds since 1970), and `POST /api/v1/chat/completions` answers a token it issued
/// and has not revoked, else 401, in the shapes of GigaChat's API reference.
final class FakeGigaChatServer: Sendable {
    static let answer = "Да, самовывоз из пункта выдачи бесплатный."
    /// The authorization key the console gives: base64 of `client_id:client_secret`.
    static let key = Data("0f9a1c2e-client-id:5b7d-client-secret".utf8).base64EncodedString()

    private struct Tokens {
        var issued = 0
        var valid: Set<String> = []
        var expiresAt: Int64 = 0
        var delay = TimeAmount.zero
    }

    let server: FakeChatServer
    private let shared: ChatFakeLock<Tokens>

    /// `expiresAt`: when the tokens it issues expire, in milliseconds since 1970.
    init(expiresAt: Date, tls: NIOSSLContext? = nil) {
        let tokens = ChatFakeLock(Tokens(expiresAt: Int64(expiresAt.timeIntervalSince1970 * 1000)))
        server = FakeChatServer(tls: tls) { request in Self.answer(request, tokens) }
        shared = tokens
    }

    /// When the tokens issued from now on expire.
    func expire(at date: Date) {
        shared.withLock { $0.expiresAt = Int64(date.timeIntervalSince1970 * 1000) }
    }

    /// How long the token endpoint takes to answer.
    func delayTokens(_ delay: TimeAmount) {
        shared.withLock { $0.delay = delay }
    }

    /// Revokes every token issued so far (the chat answers them 401).
    func revokeAll() {
        shared.withLock { $0.valid = [] }
    }

    var tokenRequests: [FakeChatServer.Received] { server.requests.filter { $0.path == "/api/v2/oauth" } }
    var chatRequests: [FakeChatServer.Received] { server.requests.filter { $0.path == "/api/v1/chat/completions" } }

    private static func answer(_ request: FakeChatServer.Received, _ tokens: ChatFakeLock<Tokens>) -> FakeChatServer.Answer {
        switch request.path {
        case "/api/v2/oauth":
            guard request.headers["authorization"] == "Basic \(key)" else {
                return .reply(401, chatJSON(["code": 4, "message": "Can't decode 'Authorization' header"]))
            }
            let (token, expiresAt, delay) = tokens.withLock { tokens in
                tokens.issued += 1
                let token = "giga-token-\(tokens.issued)"
                tokens.valid.insert(token)
                return (token, tokens.expiresAt, tokens.delay)
            }
            return .slow(delay, then: .reply(200, chatJSON(["access_token": token, "expires_at": expiresAt])))
        case "/api/v1/chat/completions":
            let token = request.headers["authorization"].map { String($0.dropFirst("Bearer ".count)) } ?? ""
            guard tokens.withLock({ $0.valid.contains(token) }) else {
                return .reply(401, chatJSON(["status": 401, "message": "Unauthorized"]))
            }
            return .reply(200, completion(answer))
        default:
            return .reply(404, chatJSON(["status": 404, "message": "No handler found"]))
        }
    }

    static func completion(_ text: String) -> String {
        chatJSON([
            "choices": [["message": ["content": text, "role": "assistant"], "index": 0, "finish_reason": "stop"] as [String: Any]],
            "created": 1_706_023_245, "model": "GigaChat:1.0.26.20", "object": "chat.completion",
            "usage": ["prompt_tokens": 18, "completion_tokens": 12, "total_tokens": 30, "precached_prompt_tokens": 0],
        ])
    }
}

/// A mutex that closures can share.
final class ChatFakeLock<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T {
        mutex.withLock { body(&$0) }
    }
}

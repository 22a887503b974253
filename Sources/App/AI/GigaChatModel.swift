import AsyncHTTPClient
import Foundation
import Logging

/// Sber's GigaChat: an access token by OAuth client credentials (`GigaChatTokens`, kept between calls), then
/// `POST {base}/chat/completions` as OpenAI's. Its endpoints' certificates chain to the Russian Ministry of Digital
/// Development's root CA: `ChatModels` hands it a client that trusts `provider.caBundle`. Not streamed: `onDelta`
/// hears the whole answer once.
public struct GigaChatModel: ChatModel {
    let http: ChatHTTP
    let provider: LLMProvider
    let tokens: GigaChatTokens

    public var name: String { provider.name }

    /// `client` trusts GigaChat's root CA (the shared one does when the system store has it); `key` is the
    /// authorization key from GigaChat's console; `clock` says when a token has expired.
    public init(client: HTTPClient, provider: LLMProvider, key: String, clock: WallClock = .system) {
        http = ChatHTTP(client: client)
        self.provider = provider
        tokens = GigaChatTokens(
            http: http, url: provider.authURL ?? "https://ngw.devices.sberbank.ru:9443/api/v2/oauth",
            scope: provider.scope ?? "GIGACHAT_API_PERS", key: key, clock: clock,
            fetchTimeout: .milliseconds(Int64(max(1, provider.timeoutSeconds) * 1000)))
    }

    public func complete(
        _ request: ChatRequest, deadline: ContinuousClock.Instant, logger: Logger, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> ChatCompletion {
        let url = ChatHTTP.url(provider.baseURL, "/chat/completions")
        let body = OpenAIChatWire.Body(request, model: provider.model, stream: false, jsonMode: false)
        let tokens = tokens
        let started = ContinuousClock.now
        let token = try await http.within(deadline) { _ in try await tokens.token(deadline: deadline, logger: logger) }
        var sent = token
        var reply = try await http.send(
            try ChatHTTP.post(url, json: body, headers: [("Authorization", "Bearer \(token)")]), deadline: deadline)
        if reply.status == 401 {
            // A token can be revoked or expire early: a new one, once.
            let renewed = try await http.within(deadline) { _ in
                try await tokens.token(replacing: token, deadline: deadline, logger: logger)
            }
            sent = renewed
            reply = try await http.send(
                try ChatHTTP.post(url, json: body, headers: [("Authorization", "Bearer \(renewed)")]), deadline: deadline)
        }
        guard reply.isSuccess else {
            logger.notice(
                "Chat model refused the call",
                metadata: [
                    "model": "\(name)", "status": "\(reply.status)", "message": "\(ChatHTTP.message(in: reply.body, hiding: [sent]))",
                ])
            throw ChatModelError(status: reply.status, headers: reply.headers, body: reply.body, model: provider.model)
        }
        let completion = try OpenAIChatWire.completion(
            from: Data(reply.body.readableBytesView), prompt: request.messages, model: provider.model)
        logger.debug(
            "Chat model answered",
            metadata: ["model": "\(name)", "elapsed": "\(ContinuousClock.now - started)", "tokens": "\(completion.usage.total)"])
        onDelta?(completion.text)
        return completion
    }
}

import AsyncHTTPClient
import Foundation
import Logging

/// OpenAI's Chat Completions and everything that speaks it (YandexGPT's compatible endpoint with a
/// `gpt://<folder>/yandexgpt/latest` model, llama.cpp's `llama-server`, Ollama, vLLM): `POST {base}/chat/completions`,
/// streamed as server-sent events when the caller listens.
public struct OpenAIChatModel: ChatModel {
    let http: ChatHTTP
    let provider: LLMProvider
    let key: String

    public var name: String { provider.name }

    /// `client` is the app's shared one. `key` goes in `Authorization: Bearer …`, left out when empty (a local server).
    public init(client: HTTPClient, provider: LLMProvider, key: String) {
        http = ChatHTTP(client: client)
        self.provider = provider
        self.key = key
    }

    public func complete(
        _ request: ChatRequest, deadline: ContinuousClock.Instant, logger: Logger, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> ChatCompletion {
        let url = ChatHTTP.url(provider.baseURL, "/chat/completions")
        let body = OpenAIChatWire.Body(request, model: provider.model, stream: onDelta != nil, schema: provider.jsonSchema)
        let call = try ChatHTTP.post(url, json: body, headers: key.isEmpty ? [] : [("Authorization", "Bearer \(key)")])
        let started = ContinuousClock.now
        let completion: ChatCompletion
        if let onDelta {
            completion = try await stream(call, prompt: request.messages, deadline: deadline, logger: logger, onDelta: onDelta)
        } else {
            let reply = try await http.send(call, deadline: deadline)
            guard reply.isSuccess else { throw refusal(reply, logger: logger) }
            completion = try OpenAIChatWire.completion(
                from: Data(reply.body.readableBytesView), prompt: request.messages, model: provider.model)
        }
        logger.debug(
            "Chat model answered",
            metadata: [
                "model": "\(name)", "elapsed": "\(ContinuousClock.now - started)", "tokens": "\(completion.usage.total)",
                "streamed": "\(onDelta != nil)",
            ])
        return completion
    }

    /// A refusal as an error, the provider's own words (redacted) in the log.
    func refusal(_ reply: ChatHTTP.Reply, logger: Logger) -> ChatModelError {
        let error = ChatModelError(status: reply.status, headers: reply.headers, body: reply.body, model: provider.model)
        logger.notice(
            "Chat model refused the call",
            metadata: [
                "model": "\(name)", "status": "\(reply.status)", "message": "\(ChatHTTP.message(in: reply.body, hiding: [key]))",
            ])
        return error
    }
}

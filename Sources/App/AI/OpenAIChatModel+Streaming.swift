import AsyncHTTPClient
import Foundation
import Logging

extension OpenAIChatModel {
    /// Sends a streamed request (`"stream": true`, usage in the last chunk) and hands each piece of text to `onDelta`
    /// as it arrives; returns the whole. The deadline covers the whole stream: when it passes, the request is cancelled.
    func stream(
        _ call: HTTPClientRequest, prompt: [ChatMessage], deadline: ContinuousClock.Instant, logger: Logger,
        onDelta: @escaping @Sendable (String) -> Void
    ) async throws -> ChatCompletion {
        try await http.within(deadline) { client in
            let response = try await client.execute(call, deadline: ChatHTTP.nioDeadline(deadline))
            guard (200..<300).contains(response.status.code) else {
                let body = try await response.body.collect(upTo: ChatHTTP.bodyLimit)
                throw refusal(.init(status: Int(response.status.code), headers: response.headers, body: body), logger: logger)
            }
            var events = ServerSentEvents()
            var answer = StreamedAnswer(model: provider.model)
            for try await buffer in response.body {
                for data in events.feed(buffer) {
                    if data == "[DONE]" { return answer.completion(prompt: prompt) }
                    if let piece = try answer.take(data, logger: logger, secrets: [key]), !piece.isEmpty { onDelta(piece) }
                }
            }
            for data in events.finish() {
                if data == "[DONE]" { return answer.completion(prompt: prompt) }
                if let piece = try answer.take(data, logger: logger, secrets: [key]), !piece.isEmpty { onDelta(piece) }
            }
            // Without `[DONE]` the answer stands only if the model said it was finished.
            guard answer.finishReason != nil else { throw ChatModelError.unavailable("the stream ended before the answer did") }
            return answer.completion(prompt: prompt)
        }
    }
}

/// A streamed answer as its chunks arrive.
struct StreamedAnswer {
    var text = ""
    var model: String
    var finishReason: String?
    var usage: OpenAIChatWire.Usage?

    init(model: String) {
        self.model = model
    }

    /// Takes one event's data (a chunk); returns its piece of text.
    mutating func take(_ data: String, logger: Logger, secrets: [String]) throws -> String? {
        let chunk: OpenAIChatWire.Chunk
        do {
            chunk = try JSONDecoder().decode(OpenAIChatWire.Chunk.self, from: Data(data.utf8))
        } catch {
            throw ChatModelError.malformed("a streamed chunk is not a chat completion chunk")
        }
        if let failure = chunk.error {
            logger.notice(
                "Chat model's stream broke off", metadata: ["message": "\(ChatHTTP.redact(failure.message ?? "", secrets).prefix(300))"])
            throw ChatModelError.unavailable("its stream broke off with an error")
        }
        if let name = chunk.model { model = name }
        if let usage = chunk.usage { self.usage = usage }
        guard let choice = chunk.choices?.first else { return nil }
        if let reason = choice.finishReason { finishReason = reason }
        let piece = choice.delta?.content
        if let piece { text += piece }
        return piece
    }

    func completion(prompt: [ChatMessage]) -> ChatCompletion {
        ChatCompletion(
            text: text, usage: OpenAIChatWire.usage(usage, prompt: prompt, completion: text), model: model, finishReason: finishReason)
    }
}

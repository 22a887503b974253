import AsyncHTTPClient
import Foundation
import Logging

/// YandexGPT's native API: `POST {base}/foundationModels/v1/completion` with an API key (`Api-Key …`) or an IAM token
/// (`Bearer …` and `x-folder-id`). It is not streamed here: `onDelta` hears the whole answer once.
public struct YandexGPTChatModel: ChatModel {
    let http: ChatHTTP
    let provider: LLMProvider
    let key: String

    public var name: String { provider.name }

    /// `client` is the app's shared one; `key` is an API key, or an IAM token when `provider.iamToken`.
    public init(client: HTTPClient, provider: LLMProvider, key: String) {
        http = ChatHTTP(client: client)
        self.provider = provider
        self.key = key
    }

    /// `gpt://<folder>/<model>`, or the model as given when it is one already; nil without a folder to put in it.
    var modelURI: String? {
        if provider.model.hasPrefix("gpt://") { return provider.model }
        guard let folder = provider.folderID?.trimmingCharacters(in: .whitespaces), !folder.isEmpty else { return nil }
        return "gpt://\(folder)/\(provider.model)"
    }

    /// The folder an IAM token's call is billed to: the configured one, else the one in the model's URI.
    var folder: String? {
        if let folder = provider.folderID?.trimmingCharacters(in: .whitespaces), !folder.isEmpty { return folder }
        return modelURI?.dropFirst("gpt://".count).split(separator: "/").first.map(String.init)
    }

    public func complete(
        _ request: ChatRequest, deadline: ContinuousClock.Instant, logger: Logger, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> ChatCompletion {
        guard let uri = modelURI else { throw ChatModelError.modelMissing(provider.model) }
        var headers = [("Authorization", provider.iamToken ? "Bearer \(key)" : "Api-Key \(key)")]
        if provider.iamToken, let folder { headers.append(("x-folder-id", folder)) }
        let body = Body(
            modelUri: uri,
            completionOptions: .init(stream: false, temperature: request.temperature, maxTokens: String(request.maxTokens)),
            messages: request.messages.map { Body.Message(role: $0.role.rawValue, text: $0.content) })
        let url = ChatHTTP.url(provider.baseURL, "/foundationModels/v1/completion")
        let started = ContinuousClock.now
        let reply = try await http.send(try ChatHTTP.post(url, json: body, headers: headers), deadline: deadline)
        guard reply.isSuccess else {
            logger.notice(
                "Chat model refused the call",
                metadata: [
                    "model": "\(name)", "status": "\(reply.status)", "message": "\(ChatHTTP.message(in: reply.body, hiding: [key]))",
                ])
            throw ChatModelError(status: reply.status, headers: reply.headers, body: reply.body, model: provider.model)
        }
        let completion = try Self.completion(from: Data(reply.body.readableBytesView), prompt: request.messages, model: uri)
        logger.debug(
            "Chat model answered",
            metadata: ["model": "\(name)", "elapsed": "\(ContinuousClock.now - started)", "tokens": "\(completion.usage.total)"])
        onDelta?(completion.text)
        return completion
    }

    /// `result.alternatives[0]`'s text and status, and `result.usage`.
    static func completion(from body: Data, prompt: [ChatMessage], model: String) throws -> ChatCompletion {
        let reply: Reply
        do {
            reply = try JSONDecoder().decode(Reply.self, from: body)
        } catch {
            throw ChatModelError.malformed("it is not a completion (result.alternatives[0].message.text)")
        }
        guard let alternative = reply.result.alternatives.first, let text = alternative.message?.text else {
            throw ChatModelError.malformed("result.alternatives[0].message.text is missing")
        }
        let usage: TokenUsage
        if let input = reply.result.usage?.inputTextTokens?.value, let output = reply.result.usage?.completionTokens?.value {
            usage = TokenUsage(prompt: input, completion: output)
        } else {
            usage = .estimate(prompt: prompt, completion: text)
        }
        return ChatCompletion(text: text, usage: usage, model: model, finishReason: alternative.status.map(finishReason))
    }

    /// An alternative's status in the words OpenAI's `finish_reason` uses.
    static func finishReason(_ status: String) -> String {
        switch status {
        case "ALTERNATIVE_STATUS_FINAL": "stop"
        case "ALTERNATIVE_STATUS_TRUNCATED_FINAL": "length"
        case "ALTERNATIVE_STATUS_CONTENT_FILTER": "content_filter"
        default: status
        }
    }

    /// `{"modelUri", "completionOptions": {"stream", "temperature", "maxTokens"}, "messages": [{"role", "text"}]}`;
    /// `maxTokens` is a string, as in Yandex's documentation (int64 in their JSON mapping).
    struct Body: Encodable {
        struct Options: Encodable {
            var stream: Bool
            var temperature: Double
            var maxTokens: String
        }
        struct Message: Encodable {
            var role: String
            var text: String
        }
        var modelUri: String
        var completionOptions: Options
        var messages: [Message]
    }

    struct Reply: Decodable {
        struct Result: Decodable {
            struct Alternative: Decodable {
                struct Message: Decodable {
                    var text: String?
                }
                var message: Message?
                var status: String?
            }
            // (?) The usage's field names (inputTextTokens, completionTokens, totalTokens) rest on one source, the
            // documentation's examples: without them the usage is estimated. Counts come as strings; numbers are taken too.
            struct Usage: Decodable {
                var inputTextTokens: FlexibleInt?
                var completionTokens: FlexibleInt?
                var totalTokens: FlexibleInt?
            }
            var alternatives: [Alternative]
            var usage: Usage?
        }
        var result: Result
    }

    /// A count sent as a string (`"19"`, protobuf's int64 in JSON) or as a number.
    struct FlexibleInt: Decodable {
        var value: Int?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                value = number
            } else {
                value = Int(try container.decode(String.self))
            }
        }
    }
}

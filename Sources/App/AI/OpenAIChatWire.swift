import Foundation

/// Chat Completions' request and answers as OpenAI documents them; GigaChat's API takes and gives the same shapes.
enum OpenAIChatWire {
    struct Body: Encodable {
        struct StreamOptions: Encodable {
            var includeUsage: Bool

            enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
        }

        struct ResponseFormat: Encodable {
            var type: String
            var jsonSchema: ReplySchema?

            enum CodingKeys: String, CodingKey {
                case type
                case jsonSchema = "json_schema"
            }
        }

        var model: String
        var messages: [ChatMessage]
        var temperature: Double
        var maxTokens: Int
        var stream: Bool
        var streamOptions: StreamOptions?
        var responseFormat: ResponseFormat?

        enum CodingKeys: String, CodingKey {
            case model, messages, temperature, stream
            case maxTokens = "max_tokens"
            case streamOptions = "stream_options"
            case responseFormat = "response_format"
        }

        /// `request` for `model`; streamed with usage in the last chunk when `stream`; JSON mode when asked and
        /// `jsonMode` (GigaChat has none: its prompt asks instead).
        /// With `schema` (the provider takes JSON Schemas) and a request that has one, the reply's schema instead.
        init(_ request: ChatRequest, model: String, stream: Bool, jsonMode: Bool = true, schema: Bool = false) {
            self.model = model
            messages = request.messages
            temperature = request.temperature
            maxTokens = request.maxTokens
            self.stream = stream
            streamOptions = stream ? StreamOptions(includeUsage: true) : nil
            if schema, let replySchema = request.schema {
                responseFormat = ResponseFormat(type: "json_schema", jsonSchema: replySchema)
            } else {
                responseFormat = request.json && jsonMode ? ResponseFormat(type: "json_object") : nil
            }
        }
    }

    struct Usage: Decodable {
        var promptTokens: Int?
        var completionTokens: Int?

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    /// `{"choices": [{"message": {"content"}, "finish_reason"}], "usage", "model"}`.
    struct Reply: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable {
                var content: String?
            }
            var message: Message?
            var finishReason: String?

            enum CodingKeys: String, CodingKey {
                case message
                case finishReason = "finish_reason"
            }
        }
        var model: String?
        var choices: [Choice]
        var usage: Usage?
    }

    /// One streamed chunk: `{"choices": [{"delta": {"content"}, "finish_reason"}]}`, the last one `{"choices": [],
    /// "usage": {…}}`; a server that fails mid-stream may send `{"error": {…}}`.
    struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable {
                var content: String?
            }
            var delta: Delta?
            var finishReason: String?

            enum CodingKeys: String, CodingKey {
                case delta
                case finishReason = "finish_reason"
            }
        }
        struct Failure: Decodable {
            var message: String?
        }
        var model: String?
        var choices: [Choice]?
        var usage: Usage?
        var error: Failure?
    }

    /// The completion in a whole (non-streamed) answer.
    static func completion(from body: Data, prompt: [ChatMessage], model: String) throws -> ChatCompletion {
        let reply: Reply
        do {
            reply = try JSONDecoder().decode(Reply.self, from: body)
        } catch {
            throw ChatModelError.malformed("it is not a chat completion (choices[0].message.content)")
        }
        guard let choice = reply.choices.first else { throw ChatModelError.malformed("it has no choices") }
        // A filtered answer may come with no content at all: its finish reason says why.
        guard let text = choice.message?.content ?? (choice.finishReason != nil ? "" : nil) else {
            throw ChatModelError.malformed("choices[0].message.content is missing")
        }
        return ChatCompletion(
            text: text, usage: usage(reply.usage, prompt: prompt, completion: text), model: reply.model ?? model,
            finishReason: choice.finishReason)
    }

    /// The provider's count when it gave one, else an estimate.
    static func usage(_ usage: Usage?, prompt: [ChatMessage], completion: String) -> TokenUsage {
        guard let usage, let input = usage.promptTokens, let output = usage.completionTokens else {
            return .estimate(prompt: prompt, completion: completion)
        }
        return TokenUsage(prompt: input, completion: output)
    }
}

import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import App

let chatLogger = Logger(label: "chat-test") { _ in SwiftLogNoOpLogHandler() }

/// What a test asks the models.
let chatQuestion = ChatRequest(
    messages: [.init(.system, "Ты помощник магазина. Отвечай кратко."), .init(.user, "Сколько идёт доставка?")], temperature: 0.3,
    maxTokens: 200)

/// Collects what `onDelta` hears.
final class DeltaLog: Sendable {
    private let pieces = Mutex<[String]>([])

    var all: [String] { pieces.withLock { $0 } }

    var listener: @Sendable (String) -> Void { { piece in self.pieces.withLock { $0.append(piece) } } }
}

extension AIChatTests {
    @Suite("OpenAI-compatible chat model")
    struct OpenAIChatModelTests {
        static func provider(_ url: String, model: String = "gpt-4o-mini") -> LLMProvider {
            LLMProvider(kind: .openai, baseURL: url + "/v1", model: model)
        }

        @Test func sendsTheDocumentedRequestAndReadsTheAnswer() async throws {
            let fake = FakeOpenAIServer.make()
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: Self.provider(url), key: "sk-test-123")
                let completion = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(
                    completion
                        == ChatCompletion(
                            text: FakeOpenAIServer.answer, usage: TokenUsage(prompt: 19, completion: 10), model: "gpt-4o-mini-2024-07-18",
                            finishReason: "stop"))
                let request = try #require(fake.requests.first)
                #expect(request.method == "POST" && request.path == "/v1/chat/completions")
                #expect(request.headers["authorization"] == "Bearer sk-test-123")
                #expect(request.headers["content-type"] == "application/json")
                let body = request.json
                #expect(body["model"] as? String == "gpt-4o-mini")
                #expect(body["temperature"] as? Double == 0.3)
                #expect(body["max_tokens"] as? Int == 200)
                #expect(body["stream"] as? Bool == false)
                #expect(body["stream_options"] == nil && body["response_format"] == nil)
                let messages = try #require(body["messages"] as? [[String: String]])
                #expect(
                    messages == [
                        ["role": "system", "content": "Ты помощник магазина. Отвечай кратко."],
                        ["role": "user", "content": "Сколько идёт доставка?"],
                    ])
            }
        }

        @Test func asksForAJSONObjectWhenTheRequestWantsJSON() async throws {
            let fake = FakeOpenAIServer.make()
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: Self.provider(url), key: "sk-test")
                var request = chatQuestion
                request.json = true
                _ = try await model.complete(request, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.requests.first?.json["response_format"] as? [String: String] == ["type": "json_object"])
            }
        }

        /// llama.cpp's `llama-server` on loopback wants no key; an answer without `usage` is estimated.
        @Test func aLocalServerGetsNoKeyAndAMissingUsageIsEstimated() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.reply(200, FakeOpenAIServer.completion("Да.", model: "qwen2.5-1.5b-instruct-q4_k_m.gguf", usage: nil)))
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: Self.provider(url, model: "local"), key: "")
                let completion = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.requests.first?.headers["authorization"] == nil)
                #expect(completion.text == "Да.")
                #expect(completion.model == "qwen2.5-1.5b-instruct-q4_k_m.gguf")
                #expect(completion.usage == .estimate(prompt: chatQuestion.messages, completion: "Да."))
                #expect(completion.usage.estimated)
            }
        }

        /// YandexGPT's OpenAI-compatible endpoint takes the model as a `gpt://` URI.
        @Test func sendsAYandexModelURIAsGiven() async throws {
            let fake = FakeOpenAIServer.make()
            try await withChatServer(fake) { url, http in
                let provider = Self.provider(url, model: "gpt://b1g4c2a8e9f0/yandexgpt/latest")
                _ = try await OpenAIChatModel(client: http.client, provider: provider, key: "AQVN-key").complete(
                    chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.requests.first?.json["model"] as? String == "gpt://b1g4c2a8e9f0/yandexgpt/latest")
            }
        }

        @Test func streamsTheAnswerPieceByPiece() async throws {
            let fake = FakeOpenAIServer.make()
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: Self.provider(url), key: "sk-test")
                let heard = DeltaLog()
                let completion = try await model.complete(
                    chatQuestion, deadline: .now + .seconds(10), logger: chatLogger, onDelta: heard.listener)
                #expect(heard.all == FakeOpenAIServer.pieces)
                #expect(completion.text == FakeOpenAIServer.answer)
                #expect(completion.usage == TokenUsage(prompt: 19, completion: 10))
                #expect(completion.finishReason == "stop")
                let body = try #require(fake.requests.first).json
                #expect(body["stream"] as? Bool == true)
                #expect(body["stream_options"] as? [String: Bool] == ["include_usage": true])
            }
        }

        /// A server that ends the stream without `[DONE]` (or usage) still answered if it said it had finished; one that
        /// stops in the middle did not.
        @Test func aStreamWithoutItsEndIsJudgedByTheFinishReason() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.events(FakeOpenAIServer.events(["Да", "."], usage: nil, done: false)))
            fake.queue(.events(Array(FakeOpenAIServer.events(["Да", ", "]).prefix(3))))
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: Self.provider(url), key: "sk-test")
                let finished = try await model.complete(chatQuestion, deadline: .now + .seconds(10), logger: chatLogger, onDelta: { _ in })
                #expect(finished.text == "Да.")
                #expect(finished.usage.estimated)
                let heard = DeltaLog()
                let error = try await #require(throws: ChatModelError.self) {
                    try await model.complete(chatQuestion, deadline: .now + .seconds(10), logger: chatLogger, onDelta: heard.listener)
                }
                #expect(error == .unavailable("the stream ended before the answer did"))
                #expect(heard.all == ["Да", ", "])
            }
        }

        @Test func aRefusedStreamIsMappedAsAnyRefusal() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.reply(401, FakeOpenAIServer.error("Incorrect API key provided: sk-test.", code: "invalid_api_key")))
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: Self.provider(url), key: "sk-test")
                await #expect(throws: ChatModelError.badKey) {
                    try await model.complete(chatQuestion, deadline: .now + .seconds(10), logger: chatLogger, onDelta: { _ in })
                }
            }
        }

        @Test func aStreamThatOutlivesTheDeadlineIsCancelledAtIt() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.events(FakeOpenAIServer.events(["a", "b", "c", "d", "e"]), every: .seconds(1)))
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: Self.provider(url), key: "sk-test")
                let started = ContinuousClock.now
                await #expect(throws: ChatModelError.timeout) {
                    try await model.complete(chatQuestion, deadline: .now + .milliseconds(500), logger: chatLogger, onDelta: { _ in })
                }
                #expect(ContinuousClock.now - started < .milliseconds(500) + .seconds(2))
            }
        }

        @Test func serverSentEventsAreReadWhateverTheCuts() {
            let stream =
                ": keep-alive\r\ndata: {\"a\":\"доставка\"}\r\n\r\nevent: message\nid: 7\ndata: line one\ndata: line two\n\ndata:[DONE]"
            var events = ServerSentEvents()
            var found: [String] = []
            // One byte at a time: lines and characters cut everywhere.
            for byte in Array(stream.utf8) { found += events.feed(ByteBuffer(bytes: [byte])) }
            found += events.finish()
            #expect(found == ["{\"a\":\"доставка\"}", "line one\nline two", "[DONE]"])
        }
    }
}

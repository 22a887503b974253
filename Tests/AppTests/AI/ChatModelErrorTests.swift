import Foundation
import Logging
import NIOHTTP1
import Testing

@testable import App

extension AIChatTests {
    @Suite("Chat models' errors")
    struct ChatModelErrorTests {
        static let key = "sk-proj-SECRET-4f9c1d2e"

        /// Each refusal as the providers send it, and what it becomes.
        static let refusals: [(status: Int, body: String, headers: [String: String], expected: ChatModelError)] = [
            (401, FakeOpenAIServer.error("Incorrect API key provided: \(key).", code: "invalid_api_key"), [:], .badKey),
            (403, FakeYandexGPTServer.error("Permission denied", grpcCode: 7, httpCode: 403, httpStatus: "Forbidden"), [:], .badKey),
            (402, chatJSON(["status": 402, "message": "Payment Required"]), [:], .quota),
            (
                429,
                FakeOpenAIServer.error(
                    "You exceeded your current quota, please check your plan and billing details.", type: "insufficient_quota",
                    code: "insufficient_quota"), [:], .quota
            ),
            (
                429, FakeOpenAIServer.error("Rate limit reached for gpt-4o-mini", type: "requests"), ["Retry-After": "7"],
                .rateLimited(retryAfter: 7)
            ),
            (
                429,
                FakeYandexGPTServer.error(
                    "ai.textGenerationCompletionSessionsCount.count gauge quota limit exceed: allowed 10 requests", grpcCode: 8,
                    httpCode: 429,
                    httpStatus: "Too Many Requests"), [:], .rateLimited(retryAfter: nil)
            ),
            (
                404,
                FakeOpenAIServer.error("The model `gpt-5-nano` does not exist or you do not have access to it.", code: "model_not_found"),
                [:], .modelMissing("gpt-4o-mini")
            ),
            (400, chatJSON(["error": "Unknown model: gpt-4o-mini"]), [:], .modelMissing("gpt-4o-mini")),
            (400, FakeOpenAIServer.error("'messages' must contain the word 'json'"), [:], .malformed("it refused the request (HTTP 400)")),
            (500, FakeOpenAIServer.error("The server had an error", type: "server_error"), [:], .unavailable("it answered HTTP 500")),
            (503, "<html><body>503 Service Unavailable</body></html>", [:], .unavailable("it answered HTTP 503")),
        ]

        @Test(arguments: refusals.indices)
        func aRefusalBecomesWhatAPersonCanActOn(index: Int) async throws {
            let refusal = Self.refusals[index]
            let fake = FakeOpenAIServer.make()
            fake.queue(.reply(refusal.status, refusal.body, headers: refusal.headers))
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: OpenAIChatModelTests.provider(url), key: Self.key)
                await #expect(throws: refusal.expected) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
            }
        }

        @Test func retryAfterIsSecondsOrADate() {
            // 07:27:30 on 21 October 2015.
            let now = Date(timeIntervalSince1970: 1_445_412_450)
            #expect(ChatModelError.retryAfter(HTTPHeaders([("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")]), now: now) == 30)
            #expect(ChatModelError.retryAfter(HTTPHeaders([("Retry-After", "1.2")]), now: now) == 2)
            #expect(ChatModelError.retryAfter(HTTPHeaders([("Retry-After", "soon")]), now: now) == nil)
            #expect(ChatModelError.retryAfter(HTTPHeaders(), now: now) == nil)
        }

        @Test(arguments: ["not json", #"{"choices": []}"#, #"{"choices": [{"index": 0, "message": {"role": "assistant"}}]}"#])
        func anAnswerItCannotReadIsMalformed(body: String) async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.reply(200, body))
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: OpenAIChatModelTests.provider(url), key: Self.key)
                let error = try await #require(throws: ChatModelError.self) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                guard case .malformed = error else { throw error }
            }
        }

        @Test func aYandexAnswerItCannotReadIsMalformed() async throws {
            let fake = FakeYandexGPTServer.make()
            fake.queue(.reply(200, #"{"result": {"alternatives": []}}"#))
            try await withChatServer(fake) { url, http in
                let model = YandexGPTChatModel(client: http.client, provider: YandexGPTChatModelTests.provider(url), key: Self.key)
                await #expect(throws: ChatModelError.malformed("result.alternatives[0].message.text is missing")) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
            }
        }

        /// Each provider's slow answer ends at the deadline (the bound is generous: a machine busy with the whole suite).
        @Test(arguments: LLMProvider.Kind.allCases)
        func aSlowProviderTimesOutAtTheDeadline(kind: LLMProvider.Kind) async throws {
            let fake: FakeChatServer
            let provider: (String) -> LLMProvider
            var key = Self.key
            switch kind {
            case .openai: (fake, provider) = (FakeOpenAIServer.make(), { OpenAIChatModelTests.provider($0) })
            case .yandexgpt: (fake, provider) = (FakeYandexGPTServer.make(), { YandexGPTChatModelTests.provider($0) })
            case .gigachat:
                (fake, provider) = (FakeGigaChatServer(expiresAt: Date() + 1800).server, { GigaChatModelTests.provider($0) })
                key = FakeGigaChatServer.key
            }
            fake.queue(.slow(.seconds(20), then: .close))
            try await withChatServer(fake) { url, http in
                let model = try ChatModels(client: http.client).model(for: provider(url), key: key, circuit: "shop/\(kind)")
                let started = ContinuousClock.now
                await #expect(throws: ChatModelError.timeout) {
                    try await model.complete(chatQuestion, timeout: .milliseconds(400), logger: chatLogger)
                }
                #expect(ContinuousClock.now - started < .milliseconds(400) + .seconds(2))
            }
        }

        @Test func aServerThatIsNotThereIsUnavailable() async throws {
            // Port 1: privileged, so no test's server takes it. A refused connection is retried until the deadline, which
            // may (on a loaded machine) come first.
            let http = HTTPClientService()
            let model = OpenAIChatModel(client: http.client, provider: OpenAIChatModelTests.provider("http://127.0.0.1:1"), key: Self.key)
            let error = await #expect(throws: ChatModelError.self) {
                try await model.complete(chatQuestion, timeout: .milliseconds(500), logger: chatLogger)
            }
            try await http.client.shutdown()
            #expect(error == .unavailable("connection refused") || error == .timeout, "\(String(describing: error))")
        }

        @Test func aClosedConnectionIsUnavailable() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.close, .close, .close)
            try await withChatServer(fake) { url, http in
                let model = OpenAIChatModel(client: http.client, provider: OpenAIChatModelTests.provider(url), key: Self.key)
                let error = try await #require(throws: ChatModelError.self) {
                    try await model.complete(chatQuestion, timeout: .seconds(5), logger: chatLogger)
                }
                #expect(error == .unavailable("it closed the connection without answering") || error == .timeout, "\(error)")
            }
        }

        /// Whatever goes wrong, and whatever the provider says back (quoting the key, as some do), the key and the token
        /// reach no error and no log line.
        @Test func theKeyIsNeverInAnErrorOrALogLine() async throws {
            let recorder = LogRecorder()
            let logger = recorder.logger()
            let quoted = "Unknown api key '\(Self.key)'; token '\(Self.key)'"
            var descriptions: [String] = []
            for status in [400, 401, 402, 403, 404, 429, 500, 503] {
                for kind in LLMProvider.Kind.allCases {
                    let fake = kind == .gigachat ? FakeGigaChatServer(expiresAt: Date() + 1800).server : FakeOpenAIServer.make()
                    fake.queue(.reply(status, chatJSON(["error": ["message": quoted]])))
                    try await withChatServer(fake) { url, http in
                        let provider =
                            switch kind {
                            case .openai: OpenAIChatModelTests.provider(url)
                            case .yandexgpt: YandexGPTChatModelTests.provider(url)
                            case .gigachat: GigaChatModelTests.provider(url)
                            }
                        let model = try ChatModels(client: http.client, policy: .init(backoff: [])).model(
                            for: provider, key: Self.key, circuit: "shop/x")
                        do {
                            _ = try await model.complete(chatQuestion, timeout: .seconds(5), logger: logger)
                        } catch {
                            descriptions += ["\(error)", String(reflecting: error), (error as? ChatModelError)?.description ?? ""]
                        }
                    }
                }
            }
            #expect(descriptions.count == 8 * 3 * 3)
            #expect(!descriptions.contains { $0.contains(Self.key) })
            let logged = recorder.all.map { "\($0.message) \($0.metadata)" }
            #expect(!logged.isEmpty)
            #expect(!logged.contains { $0.contains(Self.key) })
        }
    }
}

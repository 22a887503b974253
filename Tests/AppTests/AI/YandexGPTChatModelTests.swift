import Foundation
import Testing

@testable import App

extension AIChatTests {
    @Suite("YandexGPT chat model")
    struct YandexGPTChatModelTests {
        static func provider(
            _ url: String, model: String = "yandexgpt/latest", folder: String? = "b1g4c2a8e9f0", iam: Bool = false
        )
            -> LLMProvider
        {
            LLMProvider(kind: .yandexgpt, baseURL: url, model: model, folderID: folder, iamToken: iam)
        }

        @Test func sendsTheDocumentedRequestWithAnAPIKey() async throws {
            let fake = FakeYandexGPTServer.make()
            try await withChatServer(fake) { url, http in
                let model = YandexGPTChatModel(client: http.client, provider: Self.provider(url), key: "AQVNtest-api-key")
                let heard = DeltaLog()
                var question = chatQuestion
                question.maxTokens = 500
                let completion = try await model.complete(
                    question, deadline: .now + .seconds(10), logger: chatLogger, onDelta: heard.listener)
                #expect(
                    completion
                        == ChatCompletion(
                            text: FakeYandexGPTServer.answer, usage: TokenUsage(prompt: 19, completion: 6),
                            model: "gpt://b1g4c2a8e9f0/yandexgpt/latest",
                            finishReason: "stop"))
                // Not streamed: the whole answer, once.
                #expect(heard.all == [FakeYandexGPTServer.answer])
                let request = try #require(fake.requests.first)
                #expect(request.method == "POST" && request.path == "/foundationModels/v1/completion")
                #expect(request.headers["authorization"] == "Api-Key AQVNtest-api-key")
                #expect(request.headers["x-folder-id"] == nil)
                let body = request.json
                #expect(body["modelUri"] as? String == "gpt://b1g4c2a8e9f0/yandexgpt/latest")
                let options = try #require(body["completionOptions"] as? [String: Any])
                #expect(options["stream"] as? Bool == false)
                #expect(options["temperature"] as? Double == 0.3)
                // A string, as in Yandex's documentation.
                #expect(options["maxTokens"] as? String == "500")
                #expect(
                    body["messages"] as? [[String: String]] == [
                        ["role": "system", "text": "Ты помощник магазина. Отвечай кратко."],
                        ["role": "user", "text": "Сколько идёт доставка?"],
                    ])
            }
        }

        @Test func anIAMTokenGoesAsABearerWithTheFolder() async throws {
            let fake = FakeYandexGPTServer.make()
            try await withChatServer(fake) { url, http in
                let model = YandexGPTChatModel(client: http.client, provider: Self.provider(url, iam: true), key: "t1.9euelZq-iam")
                _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                let request = try #require(fake.requests.first)
                #expect(request.headers["authorization"] == "Bearer t1.9euelZq-iam")
                #expect(request.headers["x-folder-id"] == "b1g4c2a8e9f0")
            }
        }

        @Test func aFullModelURIIsSentAsGivenAndNamesTheFolder() async throws {
            let fake = FakeYandexGPTServer.make()
            try await withChatServer(fake) { url, http in
                let provider = Self.provider(url, model: "gpt://b1gother/yandexgpt-lite/rc", folder: nil, iam: true)
                _ = try await YandexGPTChatModel(client: http.client, provider: provider, key: "t1.iam").complete(
                    chatQuestion, timeout: .seconds(10), logger: chatLogger)
                let request = try #require(fake.requests.first)
                #expect(request.json["modelUri"] as? String == "gpt://b1gother/yandexgpt-lite/rc")
                #expect(request.headers["x-folder-id"] == "b1gother")
            }
        }

        @Test func readsCountsAsNumbersTooAndSaysWhyAnAnswerStopped() async throws {
            let fake = FakeYandexGPTServer.make()
            fake.queue(
                .reply(
                    200,
                    FakeYandexGPTServer.completion(
                        "Заказ можно", status: "ALTERNATIVE_STATUS_TRUNCATED_FINAL", usage: ["inputTextTokens": 67, "completionTokens": 50])
                ),
                .reply(200, FakeYandexGPTServer.completion("Не могу ответить.", status: "ALTERNATIVE_STATUS_CONTENT_FILTER", usage: nil)))
            try await withChatServer(fake) { url, http in
                let model = YandexGPTChatModel(client: http.client, provider: Self.provider(url), key: "AQVN-key")
                let truncated = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(truncated.usage == TokenUsage(prompt: 67, completion: 50))
                #expect(truncated.finishReason == "length")
                let filtered = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(filtered.finishReason == "content_filter")
                #expect(filtered.usage.estimated)
            }
        }

        @Test func withoutAFolderTheModelCannotBeNamed() async throws {
            let fake = FakeYandexGPTServer.make()
            try await withChatServer(fake) { url, http in
                let model = YandexGPTChatModel(client: http.client, provider: Self.provider(url, folder: nil), key: "AQVN-key")
                await #expect(throws: ChatModelError.modelMissing("yandexgpt/latest")) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.requests.isEmpty)
            }
        }
    }
}

import Foundation
import Testing

@testable import App

extension AIChatTests {
    @Suite("Chat models: retries, circuit breakers, clients")
    struct ChatModelsTests {
        static let unavailable = FakeChatServer.Answer.reply(
            503, FakeOpenAIServer.error("The engine is currently overloaded", type: "server_error"))

        @Test func aTransientFailureIsRetried() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(Self.unavailable)
            try await withChatServer(fake) { url, http in
                let model = try ChatModels(client: http.client).model(
                    for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop/openai")
                let completion = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(completion.text == FakeOpenAIServer.answer)
                #expect(fake.requests.count == 2)
            }
        }

        @Test func aRefusedKeyIsNotRetried() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.reply(401, FakeOpenAIServer.error("Incorrect API key provided", code: "invalid_api_key")))
            try await withChatServer(fake) { url, http in
                let model = try ChatModels(client: http.client).model(
                    for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop/openai")
                await #expect(throws: ChatModelError.badKey) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.requests.count == 1)
            }
        }

        @Test func retriesStopAtTwo() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(Self.unavailable, Self.unavailable, Self.unavailable, Self.unavailable)
            try await withChatServer(fake) { url, http in
                let models = ChatModels(client: http.client, policy: .init(backoff: [.milliseconds(10), .milliseconds(10)]))
                let model = try models.model(for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop/openai")
                await #expect(throws: ChatModelError.unavailable("it answered HTTP 503")) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.requests.count == 3)
            }
        }

        /// The provider's own timeout cuts a caller's longer deadline short.
        @Test func theProvidersTimeoutBoundsACall() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.slow(.seconds(20), then: .close))
            try await withChatServer(fake) { url, http in
                var provider = OpenAIChatModelTests.provider(url)
                provider.timeoutSeconds = 0.4
                let model = try ChatModels(client: http.client).model(for: provider, key: "sk", circuit: "shop/openai")
                let started = ContinuousClock.now
                await #expect(throws: ChatModelError.timeout) {
                    try await model.complete(chatQuestion, timeout: .seconds(30), logger: chatLogger)
                }
                #expect(ContinuousClock.now - started < .milliseconds(400) + .seconds(2))
            }
        }

        /// A provider that asks for more time than the deadline leaves is not waited for.
        @Test func aRetryAfterPastTheDeadlineIsNotWaitedFor() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.reply(429, FakeOpenAIServer.error("Rate limit reached", type: "requests"), headers: ["Retry-After": "30"]))
            try await withChatServer(fake) { url, http in
                let model = try ChatModels(client: http.client).model(
                    for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop/openai")
                let started = ContinuousClock.now
                await #expect(throws: ChatModelError.rateLimited(retryAfter: 30)) {
                    try await model.complete(chatQuestion, timeout: .seconds(5), logger: chatLogger)
                }
                #expect(ContinuousClock.now - started < .seconds(4))
                #expect(fake.requests.count == 1)
            }
        }

        @Test func aRetryAfterThatFitsIsHonoured() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.reply(429, FakeOpenAIServer.error("Rate limit reached", type: "requests"), headers: ["Retry-After": "1"]))
            try await withChatServer(fake) { url, http in
                let models = ChatModels(client: http.client, policy: .init(backoff: [.milliseconds(10)]))
                let model = try models.model(for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop/openai")
                let started = ContinuousClock.now
                #expect(try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger).text == FakeOpenAIServer.answer)
                #expect(ContinuousClock.now - started >= .seconds(1))
                #expect(fake.requests.count == 2)
            }
        }

        /// Once part of an answer has been heard, a retry would say it twice.
        @Test func aStreamThatBrokeOffIsNotRetried() async throws {
            let fake = FakeOpenAIServer.make()
            fake.queue(.events(Array(FakeOpenAIServer.events(["Доставка ", "занимает"]).prefix(2))))
            try await withChatServer(fake) { url, http in
                let models = ChatModels(client: http.client, policy: .init(backoff: [.milliseconds(10)]))
                let model = try models.model(for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop/openai")
                let heard = DeltaLog()
                await #expect(throws: ChatModelError.unavailable("the stream ended before the answer did")) {
                    try await model.complete(chatQuestion, deadline: .now + .seconds(10), logger: chatLogger, onDelta: heard.listener)
                }
                #expect(heard.all == ["Доставка "])
                #expect(fake.requests.count == 1)
            }
        }

        @Test func fiveFailuresOpenTheCircuitForAMinuteThenOneTrialGoesThrough() async throws {
            let clock = ManualClock()
            let fake = FakeOpenAIServer.make()
            for _ in 0..<5 { fake.queue(Self.unavailable) }
            try await withChatServer(fake) { url, http in
                let models = ChatModels(client: http.client, clock: clock.wall, policy: .init(backoff: []))
                let model = try models.model(for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop-1/openai")
                for _ in 0..<5 {
                    await #expect(throws: ChatModelError.unavailable("it answered HTTP 503")) {
                        try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                    }
                }
                // Open: calls fail at once, without reaching the provider; another shop's circuit is its own.
                await #expect(throws: ChatModelError.circuitOpen(until: clock.now + 60)) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.requests.count == 5)
                let otherShop = try models.model(for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop-2/openai")
                _ = try await otherShop.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.requests.count == 6)
                clock.advance(by: 59)
                await #expect(throws: ChatModelError.self) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.requests.count == 6)
                // A minute on: one trial, which succeeds and closes the circuit.
                clock.advance(by: 1)
                _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.requests.count == 8)
            }
        }

        @Test func aFailedTrialOpensTheCircuitAgain() async throws {
            let clock = ManualClock()
            let fake = FakeOpenAIServer.make()
            for _ in 0..<6 { fake.queue(Self.unavailable) }
            try await withChatServer(fake) { url, http in
                let models = ChatModels(client: http.client, clock: clock.wall, policy: .init(backoff: []))
                let model = try models.model(for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop/openai")
                for _ in 0..<5 { _ = try? await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger) }
                clock.advance(by: 60)
                await #expect(throws: ChatModelError.unavailable("it answered HTTP 503")) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                await #expect(throws: ChatModelError.circuitOpen(until: clock.now + 60)) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.requests.count == 6)
            }
        }

        /// Only a trial goes through a half-open circuit: the calls that come meanwhile fail at once.
        @Test func aHalfOpenCircuitLetsOneTrialThrough() throws {
            let clock = ManualClock()
            let breakers = CircuitBreakers(threshold: 2, openFor: 60, clock: clock.wall)
            for _ in 0..<2 { breakers.record("c", .failed, trial: try breakers.admit("c")) }
            #expect(throws: ChatModelError.self) { try breakers.admit("c") }
            clock.advance(by: 60)
            #expect(try breakers.admit("c") == true)
            #expect(throws: ChatModelError.self) { try breakers.admit("c") }
            breakers.record("c", .unknown, trial: true)
            #expect(try breakers.admit("c") == true)
            breakers.record("c", .answered, trial: true)
            #expect(try breakers.admit("c") == false)
        }

        /// A refused key says nothing about the provider being down: it does not open the circuit.
        @Test func refusalsDoNotOpenTheCircuit() async throws {
            let fake = FakeOpenAIServer.make()
            for _ in 0..<6 { fake.queue(.reply(401, FakeOpenAIServer.error("Incorrect API key provided", code: "invalid_api_key"))) }
            try await withChatServer(fake) { url, http in
                let models = ChatModels(client: http.client, policy: .init(backoff: []))
                let model = try models.model(for: OpenAIChatModelTests.provider(url), key: "sk", circuit: "shop/openai")
                for _ in 0..<6 {
                    await #expect(throws: ChatModelError.badKey) {
                        try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                    }
                }
                #expect(fake.requests.count == 6)
            }
        }

        /// GigaChat's token outlives a call because its client is kept per provider and key.
        @Test func clientsAreKeptPerProviderAndKey() async throws {
            let fake = FakeGigaChatServer(expiresAt: Date() + 1800)
            try await withChatServer(fake.server) { url, http in
                let models = ChatModels(client: http.client)
                let provider = GigaChatModelTests.provider(url)
                for _ in 0..<3 {
                    let model = try models.model(for: provider, key: FakeGigaChatServer.key, circuit: "shop/gigachat")
                    _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.tokenRequests.count == 1)
                let other = try models.model(for: provider, key: FakeGigaChatServer.key + "=", circuit: "shop/gigachat")
                _ = try? await other.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.tokenRequests.count == 2)
                #expect(try models.model(for: provider, key: "a", circuit: "x").name == "gigachat/GigaChat")
            }
        }
    }
}

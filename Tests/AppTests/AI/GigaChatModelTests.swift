import Foundation
import Testing

@testable import App

extension AIChatTests {
    @Suite("GigaChat chat model")
    struct GigaChatModelTests {
        static func provider(_ url: String, scope: String = "GIGACHAT_API_B2B", caBundle: String? = nil) -> LLMProvider {
            LLMProvider(
                kind: .gigachat, baseURL: url + "/api/v1", model: "GigaChat", authURL: url + "/api/v2/oauth", scope: scope,
                caBundle: caBundle)
        }

        @Test func getsATokenByClientCredentialsThenAsks() async throws {
            let clock = ManualClock()
            let fake = FakeGigaChatServer(expiresAt: clock.now + 30 * 60)
            try await withChatServer(fake.server) { url, http in
                let model = GigaChatModel(client: http.client, provider: Self.provider(url), key: FakeGigaChatServer.key, clock: clock.wall)
                let heard = DeltaLog()
                let completion = try await model.complete(
                    chatQuestion, deadline: .now + .seconds(10), logger: chatLogger, onDelta: heard.listener)
                #expect(
                    completion
                        == ChatCompletion(
                            text: FakeGigaChatServer.answer, usage: TokenUsage(prompt: 18, completion: 12), model: "GigaChat:1.0.26.20",
                            finishReason: "stop"))
                #expect(heard.all == [FakeGigaChatServer.answer])
                let token = try #require(fake.tokenRequests.first)
                #expect(token.method == "POST")
                #expect(token.headers["authorization"] == "Basic \(FakeGigaChatServer.key)")
                #expect(token.headers["content-type"] == "application/x-www-form-urlencoded")
                #expect(UUID(uuidString: token.headers["rquid"] ?? "") != nil)
                #expect(token.body == "scope=GIGACHAT_API_B2B")
                let chat = try #require(fake.chatRequests.first)
                #expect(chat.headers["authorization"] == "Bearer giga-token-1")
                #expect(chat.json["model"] as? String == "GigaChat")
                #expect(chat.json["max_tokens"] as? Int == 200)
                #expect(chat.json["stream"] as? Bool == false)
            }
        }

        @Test func aTokenServesCallsUntilAMinuteBeforeItExpires() async throws {
            let clock = ManualClock()
            let fake = FakeGigaChatServer(expiresAt: clock.now + 30 * 60)
            try await withChatServer(fake.server) { url, http in
                let model = GigaChatModel(client: http.client, provider: Self.provider(url), key: FakeGigaChatServer.key, clock: clock.wall)
                _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                clock.advance(by: 28 * 60)
                _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.tokenRequests.count == 1)
                // Within a minute of its expiry: a new one.
                clock.advance(by: 90)
                fake.expire(at: clock.now + 30 * 60)
                _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.tokenRequests.count == 2)
                #expect(
                    fake.chatRequests.map { $0.headers["authorization"] } == [
                        "Bearer giga-token-1", "Bearer giga-token-1", "Bearer giga-token-2",
                    ])
            }
        }

        @Test func callsThatWaitTogetherShareOneTokenRequest() async throws {
            let clock = ManualClock()
            let fake = FakeGigaChatServer(expiresAt: clock.now + 30 * 60)
            try await withChatServer(fake.server) { url, http in
                // The token is slow to come: every call waits for the same one.
                fake.delayTokens(.milliseconds(300))
                let model = GigaChatModel(client: http.client, provider: Self.provider(url), key: FakeGigaChatServer.key, clock: clock.wall)
                try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<5 {
                        group.addTask { try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger).text }
                    }
                    for try await text in group { #expect(text == FakeGigaChatServer.answer) }
                }
                #expect(fake.tokenRequests.count == 1)
                #expect(fake.chatRequests.count == 5)
            }
        }

        @Test func aRefusedTokenIsRenewedOnceThenTheKeyIsBad() async throws {
            let clock = ManualClock()
            let fake = FakeGigaChatServer(expiresAt: clock.now + 30 * 60)
            try await withChatServer(fake.server) { url, http in
                let model = GigaChatModel(client: http.client, provider: Self.provider(url), key: FakeGigaChatServer.key, clock: clock.wall)
                _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                fake.revokeAll()
                _ = try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                #expect(fake.tokenRequests.count == 2)
                #expect(
                    fake.chatRequests.map { $0.headers["authorization"] } == [
                        "Bearer giga-token-1", "Bearer giga-token-1", "Bearer giga-token-2",
                    ])
                // A chat that refuses every token: one renewal, then the key is bad (no loop).
                fake.server.queue(.reply(401, chatJSON(["status": 401, "message": "Unauthorized"])))
                fake.server.queue(.reply(200, chatJSON(["access_token": "giga-token-x", "expires_at": 4_102_444_800_000])))
                fake.server.queue(.reply(401, chatJSON(["status": 401, "message": "Unauthorized"])))
                await #expect(throws: ChatModelError.badKey) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.tokenRequests.count == 3)
                #expect(fake.chatRequests.count == 5)
            }
        }

        @Test func anUnknownKeyIsABadKey() async throws {
            let fake = FakeGigaChatServer(expiresAt: Date() + 30 * 60)
            try await withChatServer(fake.server) { url, http in
                let model = GigaChatModel(client: http.client, provider: Self.provider(url), key: "bm90LWEta2V5")
                await #expect(throws: ChatModelError.badKey) {
                    try await model.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(fake.chatRequests.isEmpty)
            }
        }

        @Test func expiryIsReadInMillisecondsOrSeconds() {
            let now = Date(timeIntervalSince1970: 1_706_000_000)
            #expect(GigaChatTokens.expiry(1_706_026_848_841, now: now) == Date(timeIntervalSince1970: 1_706_026_848.841))
            #expect(GigaChatTokens.expiry(1_706_026_848, now: now) == Date(timeIntervalSince1970: 1_706_026_848))
            #expect(GigaChatTokens.expiry(nil, now: now) == now + 30 * 60)
        }

        /// GigaChat's certificates chain to a root the system may not trust: with the root in `caBundle` the call goes
        /// through; without it, it fails as a TLS failure. (The fake's root stands in for the Ministry's.)
        @Test func trustsTheCABundleItIsGiven() async throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vitrina-ca-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let bundle = folder.appendingPathComponent("russian_trusted_root_ca.pem").path
            try TestCertificates.rootCA.write(toFile: bundle, atomically: true, encoding: .utf8)
            let fake = FakeGigaChatServer(expiresAt: Date() + 30 * 60, tls: try TestCertificates.serverContext())
            try await withChatServer(fake.server) { url, http in
                #expect(url.hasPrefix("https://"))
                let models = ChatModels(client: http.client)
                let trusted = try models.model(
                    for: Self.provider(url, caBundle: bundle), key: FakeGigaChatServer.key, circuit: "shop/gigachat")
                #expect(
                    try await trusted.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger).text == FakeGigaChatServer.answer)
                let untrusted = try models.model(for: Self.provider(url), key: FakeGigaChatServer.key, circuit: "shop/gigachat-2")
                let error = try await #require(throws: ChatModelError.self) {
                    // A generous deadline: a machine busy with the whole suite can take seconds to fail a handshake.
                    try await untrusted.complete(chatQuestion, timeout: .seconds(10), logger: chatLogger)
                }
                #expect(error == .untrusted)
                #expect(throws: ChatModelError.unavailable("the CA bundle \(folder.path)/missing.pem cannot be read")) {
                    try models.model(for: Self.provider(url, caBundle: folder.path + "/missing.pem"), key: "k", circuit: "shop/gigachat-3")
                }
                try await models.shutdown()
            }
        }
    }
}

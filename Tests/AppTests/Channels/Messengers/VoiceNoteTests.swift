import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// Voice notes from a messenger: transcribed with the shop's speech to text before the bot answers, or a polite
/// sentence when the shop has none.
@Suite("Channels: voice notes")
struct VoiceNoteTests {
    static let token = "123456:AAEtea-token-abcdefghijklmnopqrst"

    @Test func withoutSpeechToTextTheShopperIsAskedToWriteAndTheNoteIsKept() async throws {
        try await TelegramChannelTests.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
            let shopper = FakeTelegramUpdates.Shopper(id: 800_001)
            fake.addFile(id: "voice-1", path: "voice/file_1.oga", bytes: OggFixture.clip(seconds: 2))
            try await env.withApp { client in
                #expect(
                    try await shop.post(
                        client, FakeTelegramUpdates.voice(fileID: "voice-1", seconds: 2, size: 4000, updateID: 1, from: shopper)
                    ).status == .ok)
                let replies = try await shop.replies(to: shopper.id, atLeast: 1)
                #expect(replies.first?.plainText == BotTexts.voiceUnheard(.ru))
            }
            let parts = try await env.services.tenants.withTenant(shop.tenant) {
                try await $0.value(String.self, "SELECT parts::text FROM messages WHERE author = 'shopper'")
            }
            #expect(parts?.contains(#""kind": "voice""#) == true)
        }
    }

    @Test func withTheProvidersSpeechModelTheWordsAreAnswered() async throws {
        let model = FakeChatServer { request in
            if request.path.hasSuffix("/audio/transcriptions") {
                return .reply(200, #"{"text": "Сколько идёт доставка?"}"#, headers: ["Content-Type": "application/json"])
            }
            // The model itself declines: retrieval answers the transcribed words.
            return .reply(400, FakeOpenAIServer.error("Unsupported"), headers: ["Content-Type": "application/json"])
        }
        let url = try await model.start()
        defer { Task { try? await model.stop() } }
        try await TelegramChannelTests.withFake { env, fake in
            let shop = try await TelegramShop.make(env, fake: fake, slug: "tea", token: Self.token)
            var provider = LLMProvider(kind: .openai, baseURL: url + "/v1", model: "gpt-4o-mini", timeoutSeconds: 5)
            provider.speechModel = "whisper-1"
            let settings = LLMSettings(mode: .own, provider: provider)
            let sealed = try env.services.secrets.seal("sk-shop-key")
            try await env.services.tenants.withTenant(shop.tenant) { connection in
                try await connection.execute("UPDATE bots SET llm = \(settings.json)::jsonb, llm_key = \(sealed)")
            }
            let shopper = FakeTelegramUpdates.Shopper(id: 800_002)
            fake.addFile(id: "voice-2", path: "voice/file_2.oga", bytes: OggFixture.clip(seconds: 2))
            try await env.withApp { client in
                try await shop.post(
                    client, FakeTelegramUpdates.voice(fileID: "voice-2", seconds: 2, size: 4000, updateID: 2, from: shopper))
                let replies = try await shop.replies(to: shopper.id, atLeast: 1)
                #expect(replies.first?.plainText.contains("от 2 до 6 дней") == true)
            }
            let transcription = try #require(model.requests.first { $0.path.hasSuffix("/audio/transcriptions") })
            #expect(transcription.headers["authorization"] == "Bearer sk-shop-key")
            let text = try await env.services.tenants.withTenant(shop.tenant) {
                try await $0.value(String.self, "SELECT text FROM messages WHERE author = 'shopper'")
            }
            #expect(text == "Сколько идёт доставка?")
        }
    }
}

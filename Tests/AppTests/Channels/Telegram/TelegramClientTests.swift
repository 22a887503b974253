import Foundation
import Testing

@testable import App

extension TelegramTests {
    /// The client against the fake Bot API on loopback.
    @Suite("Telegram client")
    struct ClientTests {
        static let token = "7000000001:AAH-test_token-Vx9"

        static func connection(token: String = token, drop: Bool? = nil) -> ChannelConnection {
            ChannelConnection(
                id: 7, botID: 1, kind: .telegram, webhookKey: ChannelConnection.newWebhookKey(), status: .pending, statusDetail: nil,
                settings: ChannelSettings(dropPendingUpdates: drop),
                secrets: ChannelSecrets(token: token, webhookSecret: "s3cret_-Token"), lastInboundAt: nil, updatedAt: Date())
        }

        /// Runs `body` with a started fake that knows the test bot, and a client on a client like the app's shared one.
        static func withFake<T>(_ body: (FakeTelegramAPI, TelegramClient) async throws -> T) async throws -> T {
            let http = HTTPClientService()
            let fake = FakeTelegramAPI(client: http.client)
            fake.addBot(token: token, username: "shop_helper_bot", id: 7_000_000_001)
            let url = try await fake.start()
            let client = TelegramClient(client: http.client, baseURL: url, timeout: .seconds(5))
            do {
                let result = try await body(fake, client)
                try await fake.stop()
                try await http.client.shutdown()
                return result
            } catch {
                try? await fake.stop()
                try? await http.client.shutdown()
                throw error
            }
        }

        @Test func setUpChecksTheTokenAndSetsTheWebhook() async throws {
            try await Self.withFake { fake, client in
                let settings = try await client.setUp(Self.connection(drop: true), webhookURL: "https://shop.example/hooks/telegram/abc")
                #expect(
                    settings.username == "shop_helper_bot" && settings.botUserID == 7_000_000_001 && settings.dropPendingUpdates == true)
                #expect(fake.calls("getMe") == 1)
                #expect(
                    fake.webhook(token: Self.token)
                        == FakeTelegramAPI.Webhook(
                            url: "https://shop.example/hooks/telegram/abc", secretToken: "s3cret_-Token",
                            allowedUpdates: ["message", "edited_message", "callback_query"], dropPendingUpdates: true, maxConnections: 40))
                try await client.tearDown(Self.connection())
                #expect(fake.webhook(token: Self.token) == nil)
            }
        }

        @Test func aBadTokenIsRefusedWithoutNamingIt() async throws {
            try await Self.withFake { fake, client in
                let wrong = "7000000001:AAH-revoked"
                let error = await #expect(throws: ChannelConnectionError.self) {
                    try await client.setUp(Self.connection(token: wrong), webhookURL: "https://shop.example/hooks/telegram/abc")
                }
                #expect(error?.key == "telegram_token")
                #expect(error.map { !$0.description.contains(wrong) && !$0.description.contains("AAH") } == true)
                let malformed = await #expect(throws: ChannelConnectionError.self) {
                    try await client.setUp(Self.connection(token: "not a token/../x"), webhookURL: "https://shop.example/h")
                }
                #expect(malformed?.key == "telegram_token")
                #expect(fake.calls("setWebhook") == 0)
                let outcome = await client.send(OutboundMessage(text: "hi"), to: "1", over: Self.connection(token: wrong))
                guard case .refused(let refusal) = outcome else { throw TelegramUpdateError("not refused: \(outcome)") }
                #expect(refusal.kind == .unauthorized && !refusal.detail.contains(wrong))
            }
        }

        @Test func sendMessageWithAKeyboard() async throws {
            try await Self.withFake { fake, client in
                let message = OutboundMessage(
                    text: "Заказ <№15> & доставка",
                    parts: [
                        MessagePart(type: .button, title: "Да"), MessagePart(type: .button, title: "Нет"),
                        MessagePart(type: .link, title: "Отследить", url: "https://shop.example/track/15"),
                    ])
                let first = await client.send(message, to: "111222333", over: Self.connection())
                let second = await client.send(OutboundMessage(text: "Ещё"), to: "111222333", over: Self.connection())
                #expect(first == .sent(["111222333:1"]) && second == .sent(["111222333:2"]))
                let sent = try await fake.waitForSent(count: 2, chat: "111222333")
                #expect(sent[0].plainText == "Заказ <№15> & доставка" && sent[0].parseMode == "HTML")
                #expect(
                    sent[0].keyboard?.rows == [
                        [.init(text: "Да", callbackData: "Да"), .init(text: "Нет", callbackData: "Нет")],
                        [.init(text: "Отследить", url: "https://shop.example/track/15")],
                    ])
                #expect(sent[1].replyMarkup == nil)
            }
        }

        @Test func aFiveThousandCharacterTextGoesAsTwoMessages() async throws {
            try await Self.withFake { fake, client in
                let text = (1...90).map { "Предложение номер \($0) о доставке и возврате товара, оно длинное." }.joined(separator: " ")
                #expect(text.count > 5000)
                let outcome = await client.send(
                    OutboundMessage(text: text, parts: [MessagePart(type: .button, title: "Ок")]), to: "5", over: Self.connection())
                #expect(outcome == .sent(["5:1", "5:2"]))
                let sent = fake.sent(token: Self.token)
                #expect(sent.count == 2 && sent.map { $0.replyMarkup == nil } == [true, false])
                #expect(sent.map(\.plainText).joined(separator: " ") == text)
            }
        }

        @Test func aLaterPartThatFailsBrieflyIsTriedAgainAtOnceAndALongWaitIsTheJobs() async throws {
            try await Self.withFake { fake, client in
                let text = String(repeating: "Длинный текст о доставке. ", count: 200)
                fake.fail(next: 1, with: .serverError, method: "sendMessage", after: 1)
                #expect(await client.send(OutboundMessage(text: text), to: "5", over: Self.connection()) == .sent(["5:1", "5:2"]))
                fake.fail(next: 1, with: .tooManyRequests(retryAfter: 30), method: "sendMessage", after: 1)
                let outcome = await client.send(OutboundMessage(text: text), to: "5", over: Self.connection())
                #expect(outcome == .retry(after: .seconds(30), reason: "Too Many Requests: retry after 30 (after 1 of 2 parts were sent)"))
                fake.block(chat: "5")
                #expect(
                    await client.send(OutboundMessage(text: text), to: "5", over: Self.connection())
                        == .refused(DeliveryRefusal(.blocked, "Forbidden: bot was blocked by the user")))
                #expect(fake.sent(chat: "5").count == 3)
            }
        }

        @Test func tooManyRequestsIsARetryAfterWhatTelegramSaid() async throws {
            try await Self.withFake { fake, client in
                fake.fail(next: 1, with: .tooManyRequests(retryAfter: 17), method: "sendMessage")
                let outcome = await client.send(OutboundMessage(text: "hi"), to: "5", over: Self.connection())
                #expect(outcome == .retry(after: .seconds(17), reason: "Too Many Requests: retry after 17"))
                #expect(await client.send(OutboundMessage(text: "hi"), to: "5", over: Self.connection()) == .sent(["5:1"]))
            }
        }

        @Test func serverErrorsAndClosedConnectionsAreRetries() async throws {
            try await Self.withFake { fake, client in
                fake.fail(next: 1, with: .serverError)
                #expect(
                    await client.send(OutboundMessage(text: "hi"), to: "5", over: Self.connection())
                        == .retry(after: nil, reason: "Internal Server Error"))
                fake.fail(next: 1, with: .closeConnection)
                let closed = await client.send(OutboundMessage(text: "hi"), to: "5", over: Self.connection())
                guard case .retry(nil, let reason) = closed else { throw TelegramUpdateError("not a retry: \(closed)") }
                #expect(reason.hasPrefix("Telegram could not be reached") && !reason.contains(Self.token))
                #expect(fake.sent.isEmpty)
            }
        }

        @Test func aStoppedServerIsARetry() async throws {
            let http = HTTPClientService()
            let fake = FakeTelegramAPI(client: http.client)
            let url = try await fake.start()
            try await fake.stop()
            let outcome = await TelegramClient(client: http.client, baseURL: url).send(
                OutboundMessage(text: "hi"), to: "5", over: Self.connection())
            try await http.client.shutdown()
            guard case .retry(nil, _) = outcome else { throw TelegramUpdateError("not a retry: \(outcome)") }
        }

        @Test func aBlockedBotAndAMissingChatAreRefusals() async throws {
            try await Self.withFake { fake, client in
                fake.block(chat: "10")
                fake.remove(chat: "11")
                #expect(
                    await client.send(OutboundMessage(text: "hi"), to: "10", over: Self.connection())
                        == .refused(DeliveryRefusal(.blocked, "Forbidden: bot was blocked by the user")))
                #expect(
                    await client.send(OutboundMessage(text: "hi"), to: "11", over: Self.connection())
                        == .refused(DeliveryRefusal(.notFound, "Bad Request: chat not found")))
                fake.requireKnownChats()
                fake.addChat("12")
                #expect(await client.send(OutboundMessage(text: "hi"), to: "12", over: Self.connection()) == .sent(["12:1"]))
                guard case .refused(let unknown) = await client.send(OutboundMessage(text: "hi"), to: "13", over: Self.connection()) else {
                    throw TelegramUpdateError("an unknown chat was not refused")
                }
                #expect(unknown.kind == .notFound)
            }
        }

        @Test func aVoiceNoteDownloadsWithinItsLimit() async throws {
            try await Self.withFake { fake, client in
                let bytes = Array("OggS".utf8) + (0..<4000).map { UInt8($0 % 251) }
                fake.addFile(id: "AwACAgIAAxkBAAIC", path: "voice/file_12.oga", bytes: bytes)
                let voice = Attachment(kind: .voice, file: "AwACAgIAAxkBAAIC", mime: "audio/ogg", seconds: 2)
                let downloaded = try await client.download(voice, over: Self.connection(), limit: 1 << 20)
                #expect(downloaded.bytes == bytes && downloaded.mime == "audio/ogg")
                let tooLarge = await #expect(throws: TelegramError.self) {
                    try await client.download(voice, over: Self.connection(), limit: 1000)
                }
                #expect(tooLarge?.retryable == false)
                let missing = await #expect(throws: TelegramError.self) {
                    try await client.download(Attachment(kind: .voice, file: "nope"), over: Self.connection(), limit: 1 << 20)
                }
                #expect(missing.map { !$0.description.contains(Self.token) } == true)
            }
        }
    }
}

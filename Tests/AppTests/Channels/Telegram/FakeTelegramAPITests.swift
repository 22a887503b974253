import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import App

extension TelegramTests {
    /// The fake refuses what the Bot API refuses, so that a test passing against it means something.
    @Suite("Fake Telegram Bot API")
    struct FakeAPITests {
        static let token = ClientTests.token

        /// POSTs `json` to `<base>/bot<token>/<method>`; returns the status and the body as a JSON object.
        static func post(
            _ base: String, _ method: String, _ json: String, token: String = token, http: HTTPClient
        ) async throws -> (
            Int, [String: Any]
        ) {
            var request = HTTPClientRequest(url: "\(base)/bot\(token)/\(method)")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
            let response = try await http.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 20)
            let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
            return (Int(response.status.code), object)
        }

        static func withFake(_ body: (FakeTelegramAPI, String, HTTPClient) async throws -> Void) async throws {
            let http = HTTPClientService()
            let fake = FakeTelegramAPI(client: http.client)
            fake.addBot(token: token, username: "shop_helper_bot", id: 7_000_000_001)
            let url = try await fake.start()
            do {
                try await body(fake, url, http.client)
                try await fake.stop()
                try await http.client.shutdown()
            } catch {
                try? await fake.stop()
                try? await http.client.shutdown()
                throw error
            }
        }

        @Test func anUnknownTokenIsUnauthorized() async throws {
            try await Self.withFake { _, url, http in
                let (status, body) = try await Self.post(url, "getMe", "{}", token: "1:wrong", http: http)
                #expect(status == 401 && body["description"] as? String == "Unauthorized" && body["ok"] as? Bool == false)
            }
        }

        @Test func sendMessageIsValidatedAsTheBotAPIDoes() async throws {
            try await Self.withFake { fake, url, http in
                let refusals: [(String, String)] = [
                    (#"{"text":"hi"}"#, "Bad Request: chat_id is empty"),
                    (#"{"chat_id":5,"text":""}"#, "Bad Request: message text is empty"),
                    (#"{"chat_id":5,"text":"R&D","parse_mode":"HTML"}"#, "Bad Request: can't parse entities: "),
                    (#"{"chat_id":5,"text":"<b>x","parse_mode":"HTML"}"#, "Bad Request: can't parse entities: "),
                    (#"{"chat_id":5,"text":"\#(String(repeating: "я", count: 4097))"}"#, "Bad Request: message is too long"),
                    (
                        #"{"chat_id":5,"text":"hi","reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":"\#(String(repeating: "ж", count: 33))"}]]}}"#,
                        "Bad Request: BUTTON_DATA_INVALID"
                    ),
                    (
                        #"{"chat_id":5,"text":"hi","reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":""}]]}}"#,
                        "Bad Request: BUTTON_DATA_INVALID"
                    ),
                ]
                for (request, description) in refusals {
                    let (status, body) = try await Self.post(url, "sendMessage", request, http: http)
                    #expect(status == 400, "\(request)")
                    #expect((body["description"] as? String)?.hasPrefix(description) == true, "\(request): \(body)")
                }
                #expect(fake.sent.isEmpty)
                let (status, body) = try await Self.post(
                    url, "sendMessage", #"{"chat_id":"5","text":"<b>4096</b> &lt;ok&gt;","parse_mode":"HTML"}"#, http: http)
                let result = body["result"] as? [String: Any]
                #expect(status == 200 && result?["message_id"] as? Int == 1 && result?["text"] as? String == "4096 <ok>")
            }
        }

        @Test func concurrentSendsGetIncreasingIDsPerChat() async throws {
            try await Self.withFake { fake, url, http in
                let client = TelegramClient(client: http, baseURL: url)
                let connection = ClientTests.connection()
                let outcomes = await withTaskGroup(of: SendOutcome.self) { group in
                    for index in 0..<200 {
                        group.addTask { await client.send(OutboundMessage(text: "m\(index)"), to: "\(index % 4)", over: connection) }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                #expect(outcomes.allSatisfy { if case .sent = $0 { true } else { false } })
                #expect(fake.sentCount == 200)
                for chat in ["0", "1", "2", "3"] {
                    #expect(fake.sent(chat: chat).map(\.messageID) == Array(1...50))
                }
            }
        }

        @Test func anUpdateReachesTheWebhookWithTheSecretAndItsAnswerIsRun() async throws {
            let hook = FakeChatServer { _ in .reply(200, #"{"method":"answerCallbackQuery","callback_query_id":"q-77"}"#) }
            try await withChatServer(hook) { hookURL, _ in
                try await Self.withFake { fake, url, http in
                    let telegram = TelegramClient(client: http, baseURL: url)
                    let connection = ClientTests.connection()
                    _ = try await telegram.setUp(connection, webhookURL: "https://shop.example/hooks/telegram/\(connection.webhookKey)")
                    fake.routeWebhooks(to: hookURL)
                    fake.requireKnownChats()
                    let shopper = FakeTelegramUpdates.Shopper(id: 424_242)
                    let update = FakeTelegramUpdates.callback(data: "Да", updateID: 900, from: shopper, queryID: "q-77")
                    #expect(try await fake.deliver(update: update, token: Self.token) == 200)
                    let received = try #require(hook.requests.last)
                    #expect(received.path == "/hooks/telegram/\(connection.webhookKey)")
                    #expect(received.headers["host"] == "shop.example")
                    #expect(received.headers["x-telegram-bot-api-secret-token"] == "s3cret_-Token")
                    #expect(received.body == update)
                    #expect(fake.callbackAnswers == [FakeTelegramAPI.CallbackAnswer(token: Self.token, queryID: "q-77", text: nil)])
                    // The shopper wrote, so the bot may now write back.
                    #expect(await telegram.send(OutboundMessage(text: "ok"), to: "424242", over: connection) == .sent(["424242:1"]))
                }
            }
        }
    }
}

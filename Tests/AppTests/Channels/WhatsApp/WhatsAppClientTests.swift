import Foundation
import Testing

@testable import App

extension WhatsAppTests {
    @Suite("WhatsApp client against the fake Cloud API")
    struct WhatsAppClientTests {
        static let phone = "106540352242922"
        static let token = "EAAGm0PX4ZCpsBAKtestAccessToken0123456789"
        static let shopper = "79161234567"

        static func connection(token: String = token, phone: String = phone) -> ChannelConnection {
            ChannelConnection(
                id: 1, botID: 1, kind: .whatsapp, webhookKey: ChannelConnection.newWebhookKey(), status: .active, statusDetail: nil,
                settings: ChannelSettings(phoneNumberID: phone),
                secrets: ChannelSecrets(token: token, appSecret: "a1b2c3d4e5f60718293a4b5c6d7e8f90"),
                lastInboundAt: nil, updatedAt: Date())
        }

        /// Runs `body` with a started fake that knows the number, and a client like the app's.
        static func withFake(_ body: (FakeWhatsAppAPI, WhatsAppClient, String) async throws -> Void) async throws {
            let fake = FakeWhatsAppAPI()
            let base = try await fake.start()
            fake.addNumber(phoneNumberID: phone, token: token, display: "+7 916 000-11-22", verifiedName: "Ромашка")
            let http = HTTPClientService()
            do {
                try await body(fake, WhatsAppClient(client: http.client, baseURL: base, timeout: .seconds(5)), base)
            } catch {
                try? await http.client.shutdown()
                try? await fake.stop()
                throw error
            }
            try await http.client.shutdown()
            try await fake.stop()
        }

        @Test func setUpReadsTheDisplayNumber() async throws {
            try await Self.withFake { _, client, _ in
                let settings = try await client.setUp(Self.connection(), webhookURL: "https://shop.example/hooks/whatsapp/x")
                #expect(settings.displayPhoneNumber == "+7 916 000-11-22")
                #expect(settings.phoneNumberID == Self.phone)
            }
        }

        @Test func setUpWithARefusedTokenSaysSoWithoutTheToken() async throws {
            try await Self.withFake { _, client, _ in
                let wrong = "EAAGwrongTokenWrongTokenWrong12345"
                let error = try await #require(throws: ChannelConnectionError.self) {
                    try await client.setUp(Self.connection(token: wrong), webhookURL: "https://shop.example/h")
                }
                #expect(error.key == "whatsapp_token")
                #expect(!error.description.contains(wrong))
                #expect(error.description.contains("code 190"))
            }
        }

        @Test func setUpWithAnUnknownNumberSaysSo() async throws {
            try await Self.withFake { _, client, _ in
                let error = try await #require(throws: ChannelConnectionError.self) {
                    try await client.setUp(Self.connection(phone: "999000999000"), webhookURL: "https://shop.example/h")
                }
                #expect(error.key == "whatsapp_phone")
            }
        }

        @Test func setUpDuringAnOutageThrowsSomethingToRetry() async throws {
            try await Self.withFake { fake, client, _ in
                fake.fail(next: 1, with: .serverError)
                await #expect(throws: WhatsAppAPIError.self) {
                    try await client.setUp(Self.connection(), webhookURL: "https://shop.example/h")
                }
            }
        }

        @Test func sendsATextWithTheBearerToken() async throws {
            try await Self.withFake { fake, client, _ in
                let outcome = await client.send(OutboundMessage(text: "Доставка 2–3 дня."), to: Self.shopper, over: Self.connection())
                let sent = fake.sent
                #expect(sent.count == 1)
                #expect(outcome == .sent([sent[0].id]))
                #expect(sent[0].id.hasPrefix("wamid."))
                #expect(sent[0].phoneNumberID == Self.phone && sent[0].to == Self.shopper && sent[0].type == "text")
                #expect(sent[0].text == "Доставка 2–3 дня.")
            }
        }

        @Test func sendsButtonsAndListsTheAPIAccepts() async throws {
            try await Self.withFake { fake, client, _ in
                let three = ["Доставка", "Оплата", "Возврат и обмен товара надлежащего качества"].map {
                    MessagePart(type: .button, title: $0)
                }
                #expect(
                    await client.send(OutboundMessage(text: "Что вас интересует?", parts: three), to: Self.shopper, over: Self.connection())
                        .isSent)
                let six = (1...6).map { MessagePart(type: .button, title: "Тема номер \($0): очень длинное название") }
                #expect(await client.send(OutboundMessage(text: "Выберите", parts: six), to: Self.shopper, over: Self.connection()).isSent)
                let sent = fake.sent
                #expect(sent.map(\.type) == ["interactive", "interactive"])
                #expect(sent[0].choices == ["Доставка", "Оплата", "Возврат и обмен това"])
                #expect(sent[1].choices.count == 6)
            }
        }

        @Test func manySendsAtOnceAreEachRecordedOnce() async throws {
            try await Self.withFake { fake, client, _ in
                let outcomes = await withTaskGroup(of: SendOutcome.self) { group in
                    for index in 0..<300 {
                        group.addTask {
                            await client.send(OutboundMessage(text: "Ответ \(index)"), to: "7916\(index)", over: Self.connection())
                        }
                    }
                    return await group.reduce(into: [SendOutcome]()) { $0.append($1) }
                }
                let sent = try await fake.waitForSends(300, timeout: .seconds(2))
                #expect(sent.count == 300)
                #expect(Set(sent.map(\.id)).count == 300)
                #expect(Set(outcomes.compactMap { if case .sent(let ids) = $0 { ids.first } else { nil } }) == Set(sent.map(\.id)))
                #expect(try await fake.waitForSends(1, to: "791642").map(\.text) == ["Ответ 42"])
            }
        }

        @Test func aLongTextGoesAsSeveralMessages() async throws {
            try await Self.withFake { fake, client, _ in
                let outcome = await client.send(
                    OutboundMessage(text: String(repeating: "Текст ответа. ", count: 400)), to: Self.shopper, over: Self.connection())
                #expect(outcome == .sent(fake.sent.map(\.id)))
                #expect(fake.sent.count == 2)
            }
        }

        @Test func theFakeRefusesWhatTheRealAPIRefuses() async throws {
            try await Self.withFake { fake, client, _ in
                let replies = (0..<4).map { WhatsAppOutgoing.Interactive.Reply(id: "b\($0)", title: "Кнопка \($0)") }
                let tooMany = WhatsAppOutgoing(
                    to: Self.shopper, type: "interactive",
                    interactive: .init(type: "button", body: .init(text: "?"), action: .init(buttons: replies.map { .init(reply: $0) })))
                guard case .refused(let refusal) = await client.post(tooMany, phone: Self.phone, token: Self.token) else {
                    Issue.record("four reply buttons were accepted"); return
                }
                #expect(refusal.kind == .invalid)
                #expect(refusal.detail.contains("code 100"))
                let empty = WhatsAppOutgoing(to: Self.shopper, type: "text", text: .init(body: ""))
                guard case .refused(let second) = await client.post(empty, phone: Self.phone, token: Self.token) else {
                    Issue.record("an empty text was accepted"); return
                }
                #expect(second.kind == .invalid)
                #expect(fake.sent.isEmpty)
            }
        }

        @Test func aClosedWindowIsRefusedButATemplateGoes() async throws {
            try await Self.withFake { fake, client, _ in
                fake.closeWindow(for: Self.shopper)
                guard
                    case .refused(let refusal) = await client.send(
                        OutboundMessage(text: "Вы тут?"), to: Self.shopper, over: Self.connection())
                else {
                    Issue.record("a send outside the window was not refused"); return
                }
                #expect(refusal.kind == .windowClosed)
                #expect(refusal.detail.contains("131047"))
                let template = WhatsAppTemplate(name: "order_followup", language: "ru", text: "Здравствуйте!")
                let outcome = await client.send(OutboundMessage(text: "", template: template), to: Self.shopper, over: Self.connection())
                #expect(outcome.isSent)
                #expect(fake.sent.map(\.type) == ["template"])
            }
        }

        @Test func aRateLimitIsRetriedAfterASecond() async throws {
            try await Self.withFake { fake, client, _ in
                fake.fail(next: 1, with: .rateLimited)
                let outcome = await client.send(OutboundMessage(text: "Привет"), to: Self.shopper, over: Self.connection())
                guard case .retry(let after, let reason) = outcome else { Issue.record("a rate limit gave \(outcome)"); return }
                #expect(after == .seconds(1))
                #expect(reason.contains("130429"))
                #expect(await client.send(OutboundMessage(text: "Привет"), to: Self.shopper, over: Self.connection()).isSent)
            }
        }

        /// A text over 4,096 characters goes as two messages. When the second fails, the try's progress holds the first
        /// one's wamid, and the next try (the job's retry) sends only the second.
        @Test func aLongTextThatFailsHalfWayIsFinishedByTheNextTryWithoutTheFirstPart() async throws {
            try await Self.withFake { fake, client, _ in
                let long = (1...70).map { "Пункт \($0): доставка по городу один-два дня, по области до пяти дней." }.joined(separator: " ")
                fake.fail(next: 1, with: .serverError, after: 1)
                var progress: [String] = []
                guard
                    case .retry = await client.send(
                        OutboundMessage(text: long), to: Self.shopper, over: Self.connection(), sent: &progress)
                else {
                    Issue.record("a 500 on the second part was not retried"); return
                }
                #expect(progress.count == 1 && fake.sent.count == 1)
                var resumed = progress
                let outcome = await client.send(OutboundMessage(text: long), to: Self.shopper, over: Self.connection(), sent: &resumed)
                guard case .sent(let ids) = outcome else { Issue.record("the retry gave \(outcome)"); return }
                #expect(ids.count == 2 && ids.first == progress.first && Set(ids).count == 2)
                #expect(fake.sent.count == 2)
                let whole = fake.sent.compactMap(\.text).joined(separator: " ") == long
                #expect(whole, "the two parts, once each, are the text")
            }
        }

        @Test func aServerErrorAndAClosedConnectionAreRetried() async throws {
            try await Self.withFake { fake, client, _ in
                fake.fail(next: 1, with: .serverError)
                guard case .retry = await client.send(OutboundMessage(text: "1"), to: Self.shopper, over: Self.connection()) else {
                    Issue.record("a 500 was not retried"); return
                }
                fake.fail(next: 1, with: .closeConnection)
                guard case .retry(_, let reason) = await client.send(OutboundMessage(text: "2"), to: Self.shopper, over: Self.connection())
                else {
                    Issue.record("a closed connection was not retried"); return
                }
                #expect(!reason.contains(Self.token))
                #expect(fake.sent.isEmpty)
            }
        }

        @Test func anUnreachableAPIIsRetried() async throws {
            let fake = FakeWhatsAppAPI()
            let base = try await fake.start()
            try await fake.stop()
            let http = HTTPClientService()
            let client = WhatsAppClient(client: http.client, baseURL: base, timeout: .seconds(2))
            let outcome = await client.send(OutboundMessage(text: "1"), to: Self.shopper, over: Self.connection())
            try await http.client.shutdown()
            guard case .retry = outcome else { Issue.record("a refused connection gave \(outcome)"); return }
        }

        @Test func aRevokedTokenIsRefusedWithoutShowingIt() async throws {
            try await Self.withFake { _, client, _ in
                let revoked = "EAAGrevokedTokenRevokedToken98765"
                let outcome = await client.send(OutboundMessage(text: "1"), to: Self.shopper, over: Self.connection(token: revoked))
                guard case .refused(let refusal) = outcome else { Issue.record("a refused token gave \(outcome)"); return }
                #expect(refusal.kind == .unauthorized)
                #expect(!refusal.description.contains(revoked))
            }
        }

        @Test func downloadsMediaWithinTheLimit() async throws {
            try await Self.withFake { fake, client, _ in
                let bytes = (0..<5000).map { UInt8($0 % 251) }
                fake.addMedia(id: "1479537139650973", bytes: bytes, mime: "audio/ogg")
                let voice = Attachment(kind: .voice, file: "1479537139650973", mime: "audio/ogg; codecs=opus")
                let file = try await client.download(voice, over: Self.connection(), limit: 10_000)
                #expect(file.bytes == bytes)
                #expect(file.mime == "audio/ogg")
                await #expect(throws: WhatsAppAPIError.tooLarge(limit: 4000)) {
                    try await client.download(voice, over: Self.connection(), limit: 4000)
                }
                await #expect(throws: WhatsAppAPIError.self) {
                    try await client.download(Attachment(kind: .voice, file: "404404"), over: Self.connection(), limit: 10_000)
                }
            }
        }

        @Test func deliversAWebhookSignedAsMetaDoes() async throws {
            let receiver = FakeChatServer { _ in .reply(200, "") }
            let url = try await receiver.start()
            let fake = FakeWhatsAppAPI()
            let payload = FakeWhatsAppAPI.Webhooks(phoneNumberID: Self.phone).text("Привет", from: Self.shopper)
            let status = try await fake.deliver(
                payload: payload, to: url + "/hooks/whatsapp/key", appSecret: "a1b2c3d4e5f60718293a4b5c6d7e8f90")
            try await receiver.stop()
            #expect(status == 200)
            let request = try #require(receiver.requests.first)
            #expect(request.method == "POST" && request.path == "/hooks/whatsapp/key")
            #expect(
                WhatsAppSignature.isValid(
                    header: request.headers["x-hub-signature-256"], body: Array(request.body.utf8),
                    appSecret: "a1b2c3d4e5f60718293a4b5c6d7e8f90"))
            #expect(request.body == payload)
        }

        @Test(arguments: [
            (WhatsAppGraphError(status: 400, code: 131026), DeliveryRefusal.Kind.blocked),
            (WhatsAppGraphError(status: 400, code: 131021), .notFound),
            (WhatsAppGraphError(status: 401), .unauthorized),
            (WhatsAppGraphError(status: 400, code: 190), .unauthorized),
            (WhatsAppGraphError(status: 400, code: 131047), .windowClosed),
            (WhatsAppGraphError(status: 400, code: 100), .invalid),
            (WhatsAppGraphError(status: 404), .invalid),
        ])
        func graphErrorsThatAreRefusals(error: WhatsAppGraphError, kind: DeliveryRefusal.Kind) {
            guard case .refused(let refusal) = error.outcome else { Issue.record("\(error) gave \(error.outcome)"); return }
            #expect(refusal.kind == kind)
        }

        @Test(arguments: [
            (WhatsAppGraphError(status: 400, code: 131056), Duration?.some(.seconds(6))),
            (WhatsAppGraphError(status: 400, code: 80007), .seconds(60)),
            (WhatsAppGraphError(status: 400, code: 4, retryAfter: 30), .seconds(30)),
            (WhatsAppGraphError(status: 400, code: 613), .seconds(60)),
            (WhatsAppGraphError(status: 400, code: 131048), .seconds(60)),
            (WhatsAppGraphError(status: 503), nil),
            (WhatsAppGraphError(status: 429, retryAfter: 5), .seconds(5)),
        ])
        func graphErrorsThatAreRetried(error: WhatsAppGraphError, after: Duration?) {
            guard case .retry(let wait, _) = error.outcome else { Issue.record("\(error) gave \(error.outcome)"); return }
            #expect(wait == after)
        }
    }
}

extension SendOutcome {
    fileprivate var isSent: Bool {
        if case .sent(let ids) = self { return !ids.isEmpty }
        return false
    }
}

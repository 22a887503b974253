import Foundation
import Testing

@testable import App

extension WhatsAppTests {
    @Suite("WhatsApp inbound payloads")
    struct WhatsAppInboundTests {
        static let phone = "106540352242922"
        static let hooks = FakeWhatsAppAPI.Webhooks(phoneNumberID: phone)
        static let shopper = "79161234567"

        static func parse(_ payload: String) throws -> [InboundEvent] {
            try WhatsAppInbound.parse(Array(payload.utf8), phoneNumberID: phone)
        }

        static func message(_ payload: String) throws -> InboundMessage {
            let events = try parse(payload)
            guard events.count == 1, case .message(let message) = events[0] else {
                Issue.record("expected one message, got \(events)")
                throw CancellationError()
            }
            return message
        }

        /// The text message of Meta's webhook reference, as printed there.
        @Test func readsTheDocumentedTextMessage() throws {
            let payload = """
                {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{
                "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
                "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
                "messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                "timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}
                """
            let message = try Self.message(payload)
            #expect(
                message
                    == InboundMessage(
                        dedupeKey: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", chat: "16505551234",
                        contactName: "Sheena Nelson", text: "Does it come in another color?"))
        }

        @Test func readsATextWithTheProfileName() throws {
            let message = try Self.message(Self.hooks.text("Сколько стоит доставка?", from: Self.shopper, name: "Анна", id: "wamid.A1"))
            #expect(
                message == InboundMessage(dedupeKey: "wamid.A1", chat: Self.shopper, contactName: "Анна", text: "Сколько стоит доставка?"))
        }

        @Test func aMessageWithoutAProfileHasNoName() throws {
            #expect(try Self.message(Self.hooks.text("Привет", from: Self.shopper, name: nil)).contactName == nil)
        }

        @Test func readsAButtonPressAsItsTitle() throws {
            let message = try Self.message(Self.hooks.buttonReply(title: "Доставка", buttonID: "b1", from: Self.shopper, id: "wamid.B1"))
            #expect(message.text == "Доставка")
            #expect(message.dedupeKey == "wamid.B1")
            #expect(message.attachments.isEmpty)
        }

        @Test func readsAListChoiceAsItsTitle() throws {
            let message = try Self.message(
                Self.hooks.listReply(title: "Возврат товара", rowID: "b3", description: "14 дней", from: Self.shopper))
            #expect(message.text == "Возврат товара")
        }

        @Test func readsATemplateQuickReplyAsItsText() throws {
            let message = try Self.message(Self.hooks.templateButton(text: "Да, продолжить", payload: "CONTINUE", from: Self.shopper))
            #expect(message.text == "Да, продолжить")
        }

        @Test func readsAPhotoWithItsCaption() throws {
            let message = try Self.message(Self.hooks.image(mediaID: "1479537139650973", caption: "Вот такой нужен", from: Self.shopper))
            #expect(message.text == "Вот такой нужен")
            #expect(message.attachments == [Attachment(kind: .photo, file: "1479537139650973", mime: "image/jpeg")])
        }

        @Test func readsADocumentWithItsFileName() throws {
            let message = try Self.message(Self.hooks.document(mediaID: "1111", filename: "счёт.pdf", from: Self.shopper))
            #expect(message.text == "")
            #expect(message.attachments == [Attachment(kind: .document, file: "1111", name: "счёт.pdf", mime: "application/pdf")])
        }

        @Test func readsAVoiceNoteAsVoice() throws {
            let message = try Self.message(Self.hooks.voice(mediaID: "2222", from: Self.shopper))
            #expect(message.voice == Attachment(kind: .voice, file: "2222", mime: "audio/ogg; codecs=opus"))
        }

        @Test func readsAudioVideoAndStickers() throws {
            let audio = try Self.message(
                Self.hooks.message(
                    ["type": "audio", "audio": ["id": "3", "mime_type": "audio/mpeg", "voice": false]], from: Self.shopper, name: nil,
                    id: "w3"))
            #expect(audio.attachments.map(\.kind) == [.audio])
            let video = try Self.message(
                Self.hooks.message(
                    ["type": "video", "video": ["id": "4", "mime_type": "video/mp4", "caption": "смотрите"]], from: Self.shopper, name: nil,
                    id: "w4"))
            #expect(video.attachments == [Attachment(kind: .video, file: "4", mime: "video/mp4")])
            #expect(video.text == "смотрите")
            let sticker = try Self.message(
                Self.hooks.message(
                    ["type": "sticker", "sticker": ["id": "5", "mime_type": "image/webp", "animated": false]], from: Self.shopper,
                    name: nil, id: "w5"))
            #expect(sticker.attachments.map(\.kind) == [.sticker])
        }

        @Test func ignoresReactionsAndLocations() throws {
            let reaction = try Self.parse(Self.hooks.reaction(to: "wamid.X", from: Self.shopper))
            #expect(reaction.count == 1)
            guard case .ignored = reaction[0] else { Issue.record("a reaction became \(reaction)"); return }
            let location = try Self.parse(
                Self.hooks.message(
                    ["type": "location", "location": ["latitude": 55.75, "longitude": 37.62]], from: Self.shopper, name: nil, id: "w6"))
            guard case .ignored = location.first else { Issue.record("a location became \(location)"); return }
        }

        @Test(arguments: [("sent", DeliveryState.sent), ("delivered", .delivered), ("read", .read)])
        func readsStatuses(status: String, state: DeliveryState) throws {
            let events = try Self.parse(Self.hooks.status(status, messageID: "wamid.OUT1", recipient: Self.shopper))
            #expect(events == [.delivery(DeliveryReport(channelMessageID: "wamid.OUT1", state: state))])
        }

        @Test func readsAFailureWithItsReason() throws {
            let payload = Self.hooks.status(
                "failed", messageID: "wamid.OUT2", recipient: Self.shopper,
                error: (131026, "Message undeliverable", "Message failed to send because the recipient has not accepted the terms."))
            let events = try Self.parse(payload)
            #expect(
                events == [
                    .delivery(
                        DeliveryReport(
                            channelMessageID: "wamid.OUT2", state: .failed,
                            error:
                                "Message undeliverable (code 131026): Message failed to send because the recipient has not accepted the terms."
                        ))
                ])
        }

        @Test func readsEveryEntryOfABatchInOrder() throws {
            let batch = FakeWhatsAppAPI.Webhooks.batch([
                Self.hooks.text("первое", from: "7001", name: "Олег", id: "wamid.1"),
                Self.hooks.status("delivered", messageID: "wamid.OUT3", recipient: "7001"),
                FakeWhatsAppAPI.Webhooks(phoneNumberID: "999999999").text("чужое", from: "7002", id: "wamid.2"),
                Self.hooks.text("второе", from: "7003", name: "Ирина", id: "wamid.3"),
            ])
            let events = try Self.parse(batch)
            #expect(events.count == 4)
            #expect(events[0] == .message(InboundMessage(dedupeKey: "wamid.1", chat: "7001", contactName: "Олег", text: "первое")))
            #expect(events[1] == .delivery(DeliveryReport(channelMessageID: "wamid.OUT3", state: .delivered)))
            guard case .ignored = events[2] else { Issue.record("another number's message became \(events[2])"); return }
            #expect(events[3] == .message(InboundMessage(dedupeKey: "wamid.3", chat: "7003", contactName: "Ирина", text: "второе")))
        }

        @Test func severalMessagesInOneChangeTakeTheirOwnContactsNames() throws {
            let payload = """
                {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
                "messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"\(Self.phone)"},
                "contacts":[{"profile":{"name":"Первый"},"wa_id":"71"},{"profile":{"name":"Второй"},"wa_id":"72"}],
                "messages":[{"from":"72","id":"m2","timestamp":"1","type":"text","text":{"body":"b"}},
                {"from":"71","id":"m1","timestamp":"1","type":"text","text":{"body":"a"}},
                {"from":"73","id":"m3","timestamp":"1","type":"text","text":7}]}}]}]}
                """
            let events = try Self.parse(payload)
            #expect(events.count == 3)
            #expect(events[0] == .message(InboundMessage(dedupeKey: "m2", chat: "72", contactName: "Второй", text: "b")))
            #expect(events[1] == .message(InboundMessage(dedupeKey: "m1", chat: "71", contactName: "Первый", text: "a")))
            // A message of a shape not understood costs only itself.
            guard case .ignored = events[2] else { Issue.record("a malformed message became \(events[2])"); return }
        }

        @Test func ignoresAnotherPhoneNumbersChangesAndOtherFields() throws {
            let foreign = try Self.parse(FakeWhatsAppAPI.Webhooks(phoneNumberID: "555").text("чужое", from: Self.shopper))
            #expect(foreign.count == 1)
            guard case .ignored = foreign[0] else { Issue.record("another number's message became \(foreign)"); return }
            let other = #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{}}]}]}"#
            guard case .ignored = try Self.parse(other).first else { Issue.record("an account update was not ignored"); return }
        }

        @Test(arguments: ["", "{", "not json", "[1,2]", #"{"entry":"x"}"#])
        func refusesABodyThatIsNotTheWebhooksJSON(body: String) {
            #expect(throws: WhatsAppInboundError.self) { try WhatsAppInbound.parse(Array(body.utf8), phoneNumberID: Self.phone) }
        }
    }
}

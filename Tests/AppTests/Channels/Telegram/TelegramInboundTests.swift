import Foundation
import Testing

@testable import App

/// The Telegram channel's suites, under one name that `swift test --filter Telegram` finds.
@Suite("Telegram") enum TelegramTests {}

extension TelegramTests {
    /// Updates as https://core.telegram.org/bots/api#update shows them, turned into the channels' common terms.
    @Suite("Telegram updates")
    struct InboundTests {
        static let from = #""from":{"id":111222333,"is_bot":false,"first_name":"Анна","last_name":"Смирнова","language_code":"ru"}"#
        static let chat = #""chat":{"id":111222333,"first_name":"Анна","last_name":"Смирнова","type":"private"}"#

        static func message(_ fields: String, kind: String = "message", update: Int = 845_601_234) -> String {
            #"{"update_id":\#(update),"\#(kind)":{"message_id":57,\#(from),\#(chat),"date":1714550400,\#(fields)}}"#
        }

        static func parse(_ json: String, connection: Int = 7) throws -> InboundMessage {
            let event = try TelegramInbound.parse(Array(json.utf8), connectionID: connection)
            guard case .message(let message) = event else { throw TelegramUpdateError("not a message: \(event)") }
            return message
        }

        @Test func aTextMessageCarriesItsChatNameAndDedupeKey() throws {
            let message = try Self.parse(Self.message(#""text":"Где мой заказ?""#))
            #expect(
                message
                    == InboundMessage(dedupeKey: "7:845601234", chat: "111222333", contactName: "Анна Смирнова", text: "Где мой заказ?"))
            #expect(message.start == nil)
        }

        @Test func startWithAndWithoutPayloadOrBotName() throws {
            let entity = #""entities":[{"offset":0,"length":6,"type":"bot_command"}]"#
            let bare = try Self.parse(Self.message(#""text":"/start",\#(entity)"#))
            #expect(bare.start == "" && bare.text == "/start")
            let deepLink = try Self.parse(Self.message(#""text":"/start promo-2024_ab",\#(entity)"#))
            #expect(deepLink.start == "promo-2024_ab" && deepLink.text == "/start promo-2024_ab")
            let named = try Self.parse(
                Self.message(#""text":"/start@ShopHelperBot order_15","entities":[{"offset":0,"length":20,"type":"bot_command"}]"#))
            #expect(named.start == "order_15")
            #expect(try Self.parse(Self.message(#""text":"/start@ShopHelperBot""#)).start == "")
            #expect(try Self.parse(Self.message(#""text":"/startup ideas""#)).start == nil)
            #expect(try Self.parse(Self.message(#""text":"/help""#)).start == nil)
        }

        @Test func aPhotoKeepsItsLargestSizeAndTheCaptionAsText() throws {
            let photo = #"""
                "photo":[{"file_id":"AgACAgIAAxk_s","file_unique_id":"AQADs","file_size":1254,"width":90,"height":67},
                {"file_id":"AgACAgIAAxk_l","file_unique_id":"AQADl","file_size":98231,"width":1280,"height":960},
                {"file_id":"AgACAgIAAxk_m","file_unique_id":"AQADm","file_size":15087,"width":320,"height":240}],
                "caption":"Вот такой брак"
                """#
            let message = try Self.parse(Self.message(photo))
            #expect(message.text == "Вот такой брак")
            #expect(message.attachments == [Attachment(kind: .photo, file: "AgACAgIAAxk_l", size: 98231)])
        }

        @Test func aDocumentKeepsItsNameTypeAndSize() throws {
            let document = #"""
                "document":{"file_name":"чек.pdf","mime_type":"application/pdf","file_id":"BQACAgIAAxkBAAIB","file_unique_id":"AgADdw","file_size":48213}
                """#
            let message = try Self.parse(Self.message(document))
            #expect(message.text == "")
            #expect(
                message.attachments == [
                    Attachment(kind: .document, file: "BQACAgIAAxkBAAIB", name: "чек.pdf", mime: "application/pdf", size: 48213)
                ])
        }

        @Test func aVoiceNoteIsTheMessagesVoice() throws {
            let voice =
                #""voice":{"duration":4,"mime_type":"audio/ogg","file_id":"AwACAgIAAxkBAAIC","file_unique_id":"AgADeA","file_size":10240}"#
            let message = try Self.parse(Self.message(voice))
            #expect(message.voice == Attachment(kind: .voice, file: "AwACAgIAAxkBAAIC", mime: "audio/ogg", seconds: 4, size: 10240))
        }

        @Test func audioVideoAndStickersAreAttachmentsTooAndAStickerSaysItsEmoji() throws {
            let audio =
                #""audio":{"duration":183,"performer":"Artist","title":"Song","file_name":"song.mp3","mime_type":"audio/mpeg","file_id":"CQAD1","file_unique_id":"u1","file_size":2932736}"#
            #expect(try Self.parse(Self.message(audio)).attachments.map(\.kind) == [.audio])
            let video =
                #""video":{"duration":12,"width":720,"height":1280,"file_name":"v.mp4","mime_type":"video/mp4","file_id":"BAAD2","file_unique_id":"u2","file_size":1048576}"#
            let clip = try Self.parse(Self.message(video)).attachments
            #expect(clip == [Attachment(kind: .video, file: "BAAD2", name: "v.mp4", mime: "video/mp4", seconds: 12, size: 1048576)])
            let sticker =
                #""sticker":{"file_id":"CAACAgIAAxkBAAID","file_unique_id":"u3","type":"regular","width":512,"height":512,"is_animated":false,"is_video":false,"emoji":"👍","set_name":"Hands","file_size":23018}"#
            let message = try Self.parse(Self.message(sticker))
            #expect(message.text == "👍")
            #expect(message.attachments.map(\.kind) == [.sticker])
        }

        @Test func anEditedMessageIsMarkedEdited() throws {
            let message = try Self.parse(Self.message(#""edit_date":1714550460,"text":"Где мой заказ №15?""#, kind: "edited_message"))
            #expect(message.edited && message.text == "Где мой заказ №15?" && message.dedupeKey == "7:845601234")
        }

        @Test func aButtonPressBringsItsDataAndQueryID() throws {
            let json = #"""
                {"update_id":845601240,"callback_query":{"id":"4382bfdwdsb323b2d9",\#(Self.from),
                "message":{"message_id":58,"from":{"id":7000000001,"is_bot":true,"first_name":"Shop","username":"ShopHelperBot"},
                \#(Self.chat),"date":1714550400,"text":"Что вас интересует?"},"chat_instance":"-5179023150426346531","data":"Доставка"}}
                """#
            let message = try Self.parse(json, connection: 3)
            #expect(
                message
                    == InboundMessage(
                        dedupeKey: "3:845601240", chat: "111222333", contactName: "Анна Смирнова", text: "Доставка",
                        callbackQueryID: "4382bfdwdsb323b2d9"))
        }

        @Test func aButtonPressWithoutItsMessageAnswersTheUser() throws {
            let json =
                #"{"update_id":1,"callback_query":{"id":"q1","from":{"id":42,"is_bot":false,"first_name":"Bob"},"chat_instance":"1","data":"Yes"}}"#
            let message = try Self.parse(json)
            #expect(message.chat == "42" && message.contactName == "Bob" && message.text == "Yes")
        }

        @Test func groupsChannelsAndOtherKindsAreIgnored() throws {
            let group = #"""
                {"update_id":5,"message":{"message_id":1,\#(Self.from),"chat":{"id":-1001234567890,"title":"Fans","type":"supergroup"},"date":1,"text":"hi"}}
                """#
            #expect(try TelegramInbound.parse(Array(group.utf8), connectionID: 1) == .ignored("a message in a supergroup chat"))
            let post =
                #"{"update_id":6,"channel_post":{"message_id":1,"chat":{"id":-100,"title":"News","type":"channel"},"date":1,"text":"x"}}"#
            guard case .ignored(let reason) = try TelegramInbound.parse(Array(post.utf8), connectionID: 1) else {
                Issue.record("a channel post is not ignored")
                return
            }
            #expect(reason.contains("channel_post"))
            let member =
                #"{"update_id":7,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":1,"is_bot":false,"first_name":"A"},"date":1}}"#
            guard case .ignored = try TelegramInbound.parse(Array(member.utf8), connectionID: 1) else {
                Issue.record("my_chat_member is not ignored")
                return
            }
        }

        @Test func malformedBodiesThrowASentence() throws {
            #expect(throws: TelegramUpdateError("The body is not a JSON object.")) {
                try TelegramInbound.parse(Array("{not json".utf8), connectionID: 1)
            }
            #expect(throws: TelegramUpdateError("The update has no update_id.")) {
                try TelegramInbound.parse(Array(#"{"message":{"text":"hi"}}"#.utf8), connectionID: 1)
            }
            #expect(throws: TelegramUpdateError.self) {
                try TelegramInbound.parse(Array(#"{"update_id":"x"}"#.utf8), connectionID: 1)
            }
            #expect(throws: TelegramUpdateError.self) { try TelegramInbound.parse(Data("[1,2]".utf8), connectionID: 1) }
        }

        @Test func theFakesBuildersParseAsTheyShould() throws {
            let anna = FakeTelegramUpdates.Shopper(id: 555, firstName: "Анна", lastName: nil)
            #expect(try Self.parse(FakeTelegramUpdates.text("привет", updateID: 1, from: anna)).text == "привет")
            #expect(try Self.parse(FakeTelegramUpdates.start(payload: "ref42", updateID: 2, from: anna)).start == "ref42")
            #expect(try Self.parse(FakeTelegramUpdates.edited("new", updateID: 3, from: anna)).edited)
            let press = try Self.parse(FakeTelegramUpdates.callback(data: "Да", updateID: 4, from: anna, queryID: "q"))
            #expect(press.callbackQueryID == "q" && press.chat == "555" && press.contactName == "Анна")
            #expect(
                try Self.parse(FakeTelegramUpdates.photo(fileID: "P", caption: "c", updateID: 5, from: anna)).attachments.first?.file == "P"
            )
            let document = try Self.parse(
                FakeTelegramUpdates.document(fileID: "D", fileName: "a.txt", mime: "text/plain", size: 3, updateID: 6, from: anna))
            #expect(document.attachments.first?.name == "a.txt")
            #expect(
                try Self.parse(FakeTelegramUpdates.voice(fileID: "V", seconds: 2, size: 9, updateID: 7, from: anna)).voice?.seconds == 2)
            let group = try TelegramInbound.parse(Array(FakeTelegramUpdates.group("x", updateID: 8, from: anna).utf8), connectionID: 1)
            #expect(group == .ignored("a message in a supergroup chat"))
        }
    }
}

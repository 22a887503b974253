import Foundation

/// Bot API updates as Telegram sends them to a webhook (https://core.telegram.org/bots/api#update), for tests, the
/// CLI's simulator and the benchmark. Each returns the update's JSON.
public enum FakeTelegramUpdates {
    /// A Telegram user writing to the bot in their private chat (whose id is the user's).
    public struct Shopper: Sendable {
        public var id: Int64
        public var firstName: String
        public var lastName: String?
        public var username: String?
        public var languageCode: String?

        public init(
            id: Int64, firstName: String = "Иван", lastName: String? = "Петров", username: String? = nil, languageCode: String? = "ru"
        ) {
            self.id = id
            self.firstName = firstName
            self.lastName = lastName
            self.username = username
            self.languageCode = languageCode
        }

        var user: [String: Any] {
            var user: [String: Any] = ["id": id, "is_bot": false, "first_name": firstName]
            if let lastName { user["last_name"] = lastName }
            if let username { user["username"] = username }
            if let languageCode { user["language_code"] = languageCode }
            return user
        }

        var chat: [String: Any] {
            var chat: [String: Any] = ["id": id, "type": "private", "first_name": firstName]
            if let lastName { chat["last_name"] = lastName }
            if let username { chat["username"] = username }
            return chat
        }
    }

    /// A text message.
    public static func text(_ text: String, updateID: Int64, from shopper: Shopper, messageID: Int64 = 1) -> String {
        json(updateID, "message", message(shopper, messageID, ["text": text]))
    }

    /// `/start` (with the deep link's payload, when given), as the `t.me/<bot>?start=<payload>` link sends it.
    public static func start(payload: String? = nil, updateID: Int64, from shopper: Shopper, messageID: Int64 = 1) -> String {
        let text = payload.map { "/start " + $0 } ?? "/start"
        let entities: [[String: Any]] = [["offset": 0, "length": 6, "type": "bot_command"]]
        return json(updateID, "message", message(shopper, messageID, ["text": text, "entities": entities]))
    }

    /// A text the shopper edited.
    public static func edited(_ text: String, updateID: Int64, from shopper: Shopper, messageID: Int64 = 1) -> String {
        json(updateID, "edited_message", message(shopper, messageID, ["text": text, "edit_date": date + 60]))
    }

    /// A press on an inline keyboard's callback button under the bot's message `messageID`.
    public static func callback(
        data: String, updateID: Int64, from shopper: Shopper, queryID: String? = nil, messageID: Int64 = 2
    ) -> String {
        let botMessage: [String: Any] = [
            "message_id": messageID, "from": ["id": 7_000_000_001, "is_bot": true, "first_name": "Shop", "username": "shop_bot"],
            "chat": shopper.chat, "date": date, "text": "…",
        ]
        let query: [String: Any] = [
            "id": queryID ?? "\(shopper.id)\(updateID)", "from": shopper.user, "message": botMessage,
            "chat_instance": "-5179023150426346531",
            "data": data,
        ]
        return json(updateID, "callback_query", query)
    }

    /// A photo in three sizes (the largest `fileID`), with a caption when given.
    public static func photo(fileID: String, caption: String? = nil, updateID: Int64, from shopper: Shopper, messageID: Int64 = 1) -> String
    {
        let sizes: [[String: Any]] = [(90, 67, "_s", 1_254), (320, 240, "_m", 15_087), (1280, 960, "", 98_231)].map {
            width, height, suffix, size in
            [
                "file_id": fileID + suffix, "file_unique_id": "AQAD" + fileID.suffix(6) + suffix, "file_size": size, "width": width,
                "height": height,
            ]
        }
        var fields: [String: Any] = ["photo": sizes]
        if let caption { fields["caption"] = caption }
        return json(updateID, "message", message(shopper, messageID, fields))
    }

    /// A document.
    public static func document(
        fileID: String, fileName: String, mime: String, size: Int, updateID: Int64, from shopper: Shopper, messageID: Int64 = 1
    ) -> String {
        let document: [String: Any] = [
            "file_name": fileName, "mime_type": mime, "file_id": fileID, "file_unique_id": "AgAD" + fileID.suffix(6), "file_size": size,
        ]
        return json(updateID, "message", message(shopper, messageID, ["document": document]))
    }

    /// A voice note (Opus in OGG, as Telegram's apps record them).
    public static func voice(
        fileID: String, seconds: Int, size: Int, updateID: Int64, from shopper: Shopper, messageID: Int64 = 1
    ) -> String {
        let voice: [String: Any] = [
            "duration": seconds, "mime_type": "audio/ogg", "file_id": fileID, "file_unique_id": "AwAD" + fileID.suffix(6),
            "file_size": size,
        ]
        return json(updateID, "message", message(shopper, messageID, ["voice": voice]))
    }

    /// A message in a group the bot is in (the bot ignores it).
    public static func group(_ text: String, updateID: Int64, from shopper: Shopper, groupID: Int64 = -1_001_234_567_890) -> String {
        var fields = message(shopper, 1, ["text": text])
        fields["chat"] = ["id": groupID, "title": "Shop fans", "type": "supergroup"]
        return json(updateID, "message", fields)
    }

    /// A fixed date (2024-05-01), so that updates are the same from run to run.
    static let date = 1_714_550_400

    private static func message(_ shopper: Shopper, _ messageID: Int64, _ fields: [String: Any]) -> [String: Any] {
        ["message_id": messageID, "from": shopper.user, "chat": shopper.chat, "date": date].merging(fields) { _, new in new }
    }

    private static func json(_ updateID: Int64, _ kind: String, _ body: [String: Any]) -> String {
        let object: [String: Any] = ["update_id": updateID, kind: body]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

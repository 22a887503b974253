import Foundation

/// The parts of a Bot API `Update` the bot acts on, as https://core.telegram.org/bots/api#update documents them; every
/// field the bot does not read is left out, and every one Telegram may omit is optional.
struct TelegramUpdate: Decodable, Sendable {
    var updateID: Int64
    var message: Message?
    var editedMessage: Message?
    var callbackQuery: CallbackQuery?
    /// The kinds of update the bot did not ask for (`channel_post`, `my_chat_member`, …), by name, for the log.
    var otherKinds: [String] = []

    struct User: Decodable, Sendable {
        var id: Int64
        var firstName: String?
        var lastName: String?

        enum CodingKeys: String, CodingKey {
            case id
            case firstName = "first_name"
            case lastName = "last_name"
        }
    }

    struct Chat: Decodable, Sendable {
        var id: Int64
        /// `private`, `group`, `supergroup` or `channel`.
        var type: String
    }

    /// A file as photos, documents, voice notes, audio, video and stickers carry it.
    struct File: Decodable, Sendable {
        var fileID: String
        var fileName: String?
        var mimeType: String?
        var fileSize: Int?
        var duration: Int?
        var width: Int?
        var height: Int?
        /// A sticker's emoji.
        var emoji: String?

        enum CodingKeys: String, CodingKey {
            case duration, width, height, emoji
            case fileID = "file_id"
            case fileName = "file_name"
            case mimeType = "mime_type"
            case fileSize = "file_size"
        }
    }

    struct Message: Decodable, Sendable {
        var messageID: Int64
        var from: User?
        var chat: Chat
        var text: String?
        var caption: String?
        /// Sizes of one photo, smallest first.
        var photo: [File]?
        var document: File?
        var voice: File?
        var audio: File?
        var video: File?
        var sticker: File?

        enum CodingKeys: String, CodingKey {
            case from, chat, text, caption, photo, document, voice, audio, video, sticker
            case messageID = "message_id"
        }
    }

    struct CallbackQuery: Decodable, Sendable {
        var id: String
        var from: User
        /// The bot's message the button was under (absent for inline-mode messages and very old ones).
        var message: Message?
        var data: String?
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case updateID = "update_id"
        case message
        case editedMessage = "edited_message"
        case callbackQuery = "callback_query"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        updateID = try container.decode(Int64.self, forKey: .updateID)
        message = try container.decodeIfPresent(Message.self, forKey: .message)
        editedMessage = try container.decodeIfPresent(Message.self, forKey: .editedMessage)
        callbackQuery = try container.decodeIfPresent(CallbackQuery.self, forKey: .callbackQuery)
        let any = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        otherKinds = any.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension TelegramUpdate.User {
    /// First and last name, as a contact's name; nil when both are empty.
    var fullName: String? {
        let name = [firstName, lastName].compactMap { $0 }.joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }
}

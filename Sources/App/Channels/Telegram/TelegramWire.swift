import Foundation

/// How a Bot API call failed: Telegram's own refusal (`{"ok":false,"error_code","description","parameters"}`), or no
/// answer at all. Descriptions never hold the token.
enum TelegramFailure: Error, Sendable, Equatable {
    case api(code: Int, description: String, retryAfter: Int?)
    /// The connection could not be made or broke: the reason, said plainly.
    case unreachable(String)
    case timeout

    /// The outcome of a send that failed so.
    var outcome: SendOutcome {
        switch self {
        case .timeout: return .retry(after: nil, reason: "Telegram did not answer in time")
        case .unreachable(let reason): return .retry(after: nil, reason: "Telegram could not be reached: \(reason)")
        case .api(let code, let description, let retryAfter):
            let lowered = description.lowercased()
            switch code {
            case 429: return .retry(after: retryAfter.map { .seconds($0) }, reason: description)
            case 500...599: return .retry(after: nil, reason: description)
            case 403: return .refused(DeliveryRefusal(.blocked, description))
            case 401, 404: return .refused(DeliveryRefusal(.unauthorized, description))
            case 400 where ["chat not found", "user not found", "peer_id_invalid"].contains(where: lowered.contains):
                return .refused(DeliveryRefusal(.notFound, description))
            default: return .refused(DeliveryRefusal(.invalid, description))
            }
        }
    }

    /// A sentence for a log or an error, never holding the token.
    var sentence: String {
        switch self {
        case .timeout: "Telegram did not answer in time."
        case .unreachable(let reason): "Telegram could not be reached: \(reason)."
        case .api(let code, let description, _): "Telegram answered \(code): \(description)."
        }
    }
}

/// The Bot API's answer envelope.
struct TelegramEnvelope<Result: Decodable>: Decodable {
    struct Parameters: Decodable {
        var retryAfter: Int?

        enum CodingKeys: String, CodingKey {
            case retryAfter = "retry_after"
        }
    }

    var ok: Bool
    var result: Result?
    var errorCode: Int?
    var description: String?
    var parameters: Parameters?

    enum CodingKeys: String, CodingKey {
        case ok, result, description, parameters
        case errorCode = "error_code"
    }
}

/// `getMe`'s answer.
struct TelegramBotUser: Decodable, Sendable {
    var id: Int64
    var username: String?
}

/// `sendMessage`'s answer: the message sent.
struct TelegramSentMessage: Decodable, Sendable {
    var messageID: Int64

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id"
    }
}

/// `getFile`'s answer.
struct TelegramFileInfo: Decodable, Sendable {
    var fileID: String
    var fileSize: Int?
    var filePath: String?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileSize = "file_size"
        case filePath = "file_path"
    }
}

/// A chat id as Telegram takes it: a number for a user or a group, a string for `@channelname`.
struct TelegramChatID: Encodable, Sendable {
    var value: String

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let number = Int64(value) { try container.encode(number) } else { try container.encode(value) }
    }
}

/// `sendMessage`'s request.
struct TelegramSendMessage: Encodable, Sendable {
    var chatID: TelegramChatID
    var text: String
    var parseMode = "HTML"
    var replyMarkup: TelegramKeyboard?

    enum CodingKeys: String, CodingKey {
        case text
        case chatID = "chat_id"
        case parseMode = "parse_mode"
        case replyMarkup = "reply_markup"
    }
}

/// `setWebhook`'s request.
struct TelegramSetWebhook: Encodable, Sendable {
    var url: String
    var secretToken: String?
    var allowedUpdates: [String]
    var dropPendingUpdates: Bool
    var maxConnections: Int

    enum CodingKeys: String, CodingKey {
        case url
        case secretToken = "secret_token"
        case allowedUpdates = "allowed_updates"
        case dropPendingUpdates = "drop_pending_updates"
        case maxConnections = "max_connections"
    }
}

/// A request with no parameters (`getMe`) or only some (`deleteWebhook`, `getFile`).
struct TelegramParameters: Encodable, Sendable {
    var fileID: String?
    var dropPendingUpdates: Bool?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case dropPendingUpdates = "drop_pending_updates"
    }
}

/// A file that could not be fetched from Telegram: a sentence (never holding the token), and whether trying again
/// later may help.
public struct TelegramError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public let retryable: Bool

    public init(_ description: String, retryable: Bool) {
        self.description = description
        self.retryable = retryable
    }
}

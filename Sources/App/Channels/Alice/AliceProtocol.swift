import Foundation

/// One request of Yandex Alice to a skill's webhook (protocol version 1.0), as far as the bot reads it. Everything but
/// the session's ids is optional: Alice leaves out what a surface does not have (a user who is not signed in has no
/// `user`, a pressed button has no `command`).
public struct AliceRequest: Sendable, Decodable, Equatable {
    public struct Meta: Sendable, Decodable, Equatable {
        public var locale: String?
        public var timezone: String?
        public var clientID: String?

        enum CodingKeys: String, CodingKey {
            case locale, timezone
            case clientID = "client_id"
        }
    }

    public struct Utterance: Sendable, Decodable, Equatable {
        /// `SimpleUtterance` (the shopper spoke or typed) or `ButtonPressed` (a button with a payload).
        public var type: String
        /// What the shopper said, normalised by Alice (lower case, no punctuation, numbers as digits).
        public var command: String?
        /// What the shopper said, as heard: `ping` from Alice's monitoring.
        public var originalUtterance: String?
        /// A pressed button's payload (`{"text": "…"}` for the buttons this bot sends).
        public var payload: AliceJSON?
        public var nlu: AliceJSON?

        enum CodingKeys: String, CodingKey {
            case type, command, payload, nlu
            case originalUtterance = "original_utterance"
        }
    }

    public struct Session: Sendable, Decodable, Equatable {
        public struct User: Sendable, Decodable, Equatable {
            public var userID: String
            enum CodingKeys: String, CodingKey { case userID = "user_id" }
        }
        public struct Application: Sendable, Decodable, Equatable {
            public var applicationID: String
            enum CodingKeys: String, CodingKey { case applicationID = "application_id" }
        }

        public var messageID: Int
        public var sessionID: String
        public var skillID: String
        public var user: User?
        public var application: Application?
        /// The first request of a session: the skill was just opened (or asked a one-shot question).
        public var new: Bool

        enum CodingKeys: String, CodingKey {
            case user, application, new
            case messageID = "message_id"
            case sessionID = "session_id"
            case skillID = "skill_id"
        }
    }

    public var meta: Meta?
    public var request: Utterance
    public var session: Session
    public var state: AliceJSON?
    public var version: String?

    /// Alice's id of the shopper: the signed-in user's, else the application's (a device or an app install).
    public var shopper: String? { session.user?.userID ?? session.application?.applicationID }

    /// The dedupe key of this turn: Alice sends a turn again, with the same ids, when our answer was late.
    public var dedupeKey: String { "\(session.sessionID):\(session.messageID)" }

    /// What the shopper said: a pressed button's text (its payload's `text`, else its `title`), else the utterance.
    public var words: String {
        if request.type == "ButtonPressed", case .object(let payload) = request.payload {
            for key in ["text", "title"] {
                if case .string(let text) = payload[key], !text.isEmpty { return text }
            }
        }
        return (request.originalUtterance?.isEmpty == false ? request.originalUtterance : request.command) ?? ""
    }
}

/// Any JSON value, for the parts of Alice's protocol the bot passes through or only looks into (payloads, NLU, state).
public enum AliceJSON: Sendable, Codable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AliceJSON])
    case object([String: AliceJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AliceJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AliceJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// The skill's answer to one request: `{"response": {...}, "session_state": {...}, "version": "1.0"}`.
public struct AliceResponse: Sendable, Encodable, Equatable {
    public struct Button: Sendable, Encodable, Equatable {
        public var title: String
        public var payload: AliceJSON?
        public var url: String?
        /// `true`: a suggestion under the answer that disappears once used; `false`: a link that stays.
        public var hide: Bool
    }

    public struct Body: Sendable, Encodable, Equatable {
        /// What the screen shows (no TTS markup), at most 1,024 characters.
        public var text: String
        /// What Alice says, with pauses between paragraphs.
        public var tts: String
        public var buttons: [Button]
        public var endSession: Bool

        enum CodingKeys: String, CodingKey {
            case text, tts, buttons
            case endSession = "end_session"
        }
    }

    public var response: Body
    public var sessionState: [String: AliceJSON]
    public var version = "1.0"

    enum CodingKeys: String, CodingKey {
        case response, version
        case sessionState = "session_state"
    }
}

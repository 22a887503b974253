import Foundation
import HTTPTypes

@testable import App

/// Alice's requests, and each provider's correctly signed, well-formed updates that carry nothing to store: these may be
/// answered 200 (the provider must stop resending them), and must store nothing.
extension FuzzTarget {
    /// Alice's request (protocol 1.0) as Yandex's documentation shows it.
    func aliceRequest(_ words: String, skill: String, random: inout SplitMix64, messageID: Int? = nil, new: Bool = false) -> FuzzJSON {
        let command = AliceIntent.normalized(words)
        let tokens = command.split(separator: " ").map { FuzzJSON.string(String($0)) }
        let request = FuzzJSON.object([
            ("command", .string(command)), ("original_utterance", .string(words)), ("type", .string("SimpleUtterance")),
            ("markup", .object([("dangerous_context", .bool(false))])), ("payload", .object([])),
            ("nlu", .object([("tokens", .array(tokens)), ("entities", .array([])), ("intents", .object([]))])),
        ])
        let user = random.text(64, from: "0123456789ABCDEF")
        let session = FuzzJSON.object([
            ("message_id", .int(messageID ?? random.int(100))),
            ("session_id", .string([8, 8, 8, 5].map { random.text($0, from: Self.hex) }.joined(separator: "-"))),
            ("skill_id", .string(skill)), ("user_id", .string(user)), ("user", .object([("user_id", .string(user))])),
            ("application", .object([("application_id", .string(user))])), ("new", .bool(new)),
        ])
        return .object([
            ("meta", .object([("locale", .string("ru-RU")), ("timezone", .string("Europe/Moscow")), ("client_id", .string("ru.yandex"))])),
            ("request", request), ("session", session),
            ("state", .object([("session", .object([])), ("user", .object([])), ("application", .object([]))])),
            ("version", .string("1.0")),
        ])
    }

    /// The fields of Alice's request the controller reads.
    var aliceFields: [FuzzField] {
        [
            FuzzField("session", .object, required: true), FuzzField("session.message_id", .int, required: true),
            FuzzField("session.session_id", .string, required: true), FuzzField("session.skill_id", .string, required: true),
            FuzzField("session.new", .bool, required: true), FuzzField("session.user", .object),
            FuzzField("session.user.user_id", .string, required: true), FuzzField("session.application", .object),
            FuzzField("session.application.application_id", .string, required: true), FuzzField("request", .object, required: true),
            FuzzField("request.type", .string, required: true), FuzzField("request.command", .string),
            FuzzField("request.original_utterance", .string), FuzzField("meta", .object), FuzzField("meta.locale", .string),
            FuzzField("version", .string),
        ]
    }

    /// Alice's requests with every type right and the right skill, but ids or words the controller will not store
    /// (an empty or overlong session, no shopper, an overlong shopper or utterance): 400.
    func unusableAlice(_ random: inout SplitMix64) -> FuzzCase {
        let json = genuine(&random).json
        let (label, body): (String, FuzzJSON) = random.pick([
            ("an empty session id", json.replacing("session.session_id", with: .string(""))),
            ("a session id of 151 or more", json.replacing("session.session_id", with: .string(random.text(151 + random.int(500))))),
            ("no user and no application", json.replacing("session.user", with: nil).replacing("session.application", with: nil)),
            (
                "an empty user id and no application",
                json.replacing("session.user.user_id", with: .string("")).replacing("session.application", with: nil)
            ),
            ("a user id of 201 or more", json.replacing("session.user.user_id", with: .string(random.text(201 + random.int(500))))),
            (
                "an utterance of 4,001 or more letters",
                json.replacing("request.original_utterance", with: .string(String(repeating: "а", count: 4001 + random.int(4000))))
            ),
        ])
        return request(.mistyped, label, body.bytes)
    }

    /// (harmless) Correctly signed, well-formed JSON with nothing to store: a 2xx (or a 4xx), nothing stored. Negative
    /// ids appear here: alone they are valid integers.
    func harmless(_ random: inout SplitMix64) -> FuzzCase {
        switch provider {
        case .telegram: return harmlessTelegram(&random)
        case .whatsapp(let appSecret, let verifyToken, _): return harmlessWhatsApp(&random, appSecret: appSecret, verifyToken: verifyToken)
        case .alice(let skill):
            let (label, words, new) = random.pick([
                ("Alice's health check", "ping", false), ("a new session's greeting", "", true), ("help", "Помощь", false),
                ("what the skill can do", "Что ты умеешь?", false), ("goodbye", "Хватит", false),
            ])
            let messageID = random.int(2) == 0 ? -1 - random.int(1_000_000) : random.int(100)
            let body = aliceRequest(words, skill: skill, random: &random, messageID: messageID, new: new).bytes
            return request(.harmless, "\(label), message_id \(messageID)", body, expectation: .harmless)
        }
    }

    private func harmlessTelegram(_ random: inout SplitMix64) -> FuzzCase {
        let updateID = FuzzJSON.int(random.int(2) == 0 ? -1 - random.int(1_000_000) : 1 + random.int(900_000_000))
        let group = FuzzJSON.object([
            ("id", .int(-1_000_000_000_000 - random.int(1_000_000))), ("title", .string("Fans")),
            ("type", .string(random.pick(["group", "supergroup", "channel"]))),
        ])
        let user = FuzzJSON.object([("id", .int(-1 - random.int(1000))), ("is_bot", .bool(false)), ("first_name", .string("Анна"))])
        let post = FuzzJSON.object([
            ("message_id", .int(-random.int(1000))), ("chat", group), ("date", .int(1)), ("text", .string("Привет")),
        ])
        let kind = random.pick([
            "channel_post", "edited_channel_post", "my_chat_member", "chat_member", "chat_join_request", "poll", "poll_answer",
            "inline_query", "message_reaction", "shipping_query", "business_message",
        ])
        let query = FuzzJSON.object([("id", .string("q1")), ("from", user), ("message", post), ("data", .string("Да"))])
        let (label, json): (String, FuzzJSON) = random.pick([
            ("an update that carries nothing", .object([("update_id", updateID)])),
            ("a null message", .object([("update_id", updateID), ("message", .null)])),
            ("an update of kind \(kind)", .object([("update_id", updateID), (kind, post)])),
            ("a message in a group or channel, negative ids", .object([("update_id", updateID), ("message", post)])),
            ("an edited message in a group or channel", .object([("update_id", updateID), ("edited_message", post)])),
            ("a button pressed in a group or channel", .object([("update_id", updateID), ("callback_query", query)])),
        ])
        return request(.harmless, label, json.bytes, expectation: .harmless)
    }

    private func harmlessWhatsApp(_ random: inout SplitMix64, appSecret: String, verifyToken: String) -> FuzzCase {
        let genuine = genuine(&random).json
        let v = "entry.0.changes.0.value"
        let status = FuzzJSON.object([
            ("id", .string("wamid.never-sent-" + random.text(20))), ("timestamp", .string("1749416383")),
            ("status", .string(random.pick(["sent", "delivered", "read", "failed", "queued", "deleted", "warning"]))),
            ("recipient_id", .string("79160000000")),
        ])
        let statusUpdate = genuine.replacing(v + ".messages", with: nil).replacing(v + ".statuses", with: .array([status]))
        let ignoredFields = [
            FuzzField(v + ".messages.0", .object, required: true), FuzzField(v + ".messages.0.from", .string, required: true),
            FuzzField(v + ".messages.0.id", .string, required: true), FuzzField(v + ".messages.0.type", .string, required: true),
            FuzzField(v + ".messages.0.text", .object, required: true), FuzzField(v + ".messages.0.text.body", .string, required: true),
        ]
        let field = random.pick(ignoredFields)
        let (wrong, value) = field.wrongValue(&random)
        let reaction = FuzzJSON.object([("message_id", .string("wamid.X")), ("emoji", .string("👍"))])
        let location = FuzzJSON.object([("latitude", .number("55.75")), ("longitude", .number("37.62"))])
        let message = v + ".messages.0"
        let (label, json): (String, FuzzJSON) = random.pick([
            ("an empty object", .object([])),
            ("no entries", .object([("object", .string("whatsapp_business_account")), ("entry", .array([]))])),
            ("an entry without changes", genuine.replacing("entry.0.changes", with: .array([]))),
            ("a change of another field", genuine.replacing("entry.0.changes.0.field", with: .string("account_update"))),
            (
                "another phone number's message",
                genuine.replacing(v + ".metadata.phone_number_id", with: .string(random.text(15, from: "0123456789")))
            ),
            ("a status of a message never sent", statusUpdate),
            (
                "a reaction",
                genuine.replacing(message + ".type", with: .string("reaction")).replacing(message + ".text", with: nil).replacing(
                    message + ".reaction", with: reaction)
            ),
            (
                "a location",
                genuine.replacing(message + ".type", with: .string("location")).replacing(message + ".location", with: location)
            ),
            ("a message with an empty id", genuine.replacing(message + ".id", with: .string(""))),
            ("a message with " + wrong + " (only that message is dropped)", genuine.replacing(field.path, with: value)),
        ])
        switch random.int(6) {
        case 0:
            // Hex digits in capitals are the same signature (Meta writes small letters): accepted.
            var fuzz = request(.harmless, "a status signed in capital hex digits", statusUpdate.bytes, expectation: .harmless)
            fuzz.headers[Self.hubSignature] =
                "SHA256=" + WhatsAppSignature.sign(statusUpdate.bytes, appSecret: appSecret).dropFirst(7).uppercased()
            return fuzz
        case 1:
            var fuzz = request(.harmless, "Meta's verification with the right token", [], signed: false, expectation: .harmless)
            fuzz.method = .get
            fuzz.path = path + "?hub.mode=subscribe&hub.verify_token=\(verifyToken)&hub.challenge=\(random.int(1_000_000_000))"
            return fuzz
        default:
            return request(.harmless, label, json.bytes, expectation: .harmless)
        }
    }
}

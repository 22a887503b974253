import Foundation
import HTTPTypes

@testable import App

/// Each provider's payloads: a genuine update (which, signed, would be stored), the wrongly authenticated copies of it,
/// and the signed updates that carry nothing to store.
extension FuzzTarget {
    static let questions = ["Сколько идёт доставка?", "Как вернуть товар?", "Можно оплатить картой?", "Do you ship abroad?"]

    /// A real update of the provider, as its documentation shows it.
    func genuine(_ random: inout SplitMix64) -> Genuine {
        let words = random.pick(Self.questions)
        let shopper = 100_000_000 + random.int(900_000_000)
        switch provider {
        case .telegram:
            let user = FuzzJSON.object([("id", .int(shopper)), ("is_bot", .bool(false)), ("first_name", .string("Анна"))])
            if random.int(3) == 0 {
                let query = FuzzJSON.object([
                    ("id", .string(String(shopper) + "77")), ("from", user), ("chat_instance", .string("-5179023150426346531")),
                    ("data", .string(words)),
                ])
                return Genuine(
                    json: .object([("update_id", .int(1 + random.int(900_000_000))), ("callback_query", query)]),
                    textPath: "callback_query.data",
                    fields: [
                        FuzzField("update_id", .int, required: true), FuzzField("callback_query", .object),
                        FuzzField("callback_query.id", .string, required: true), FuzzField("callback_query.from", .object, required: true),
                        FuzzField("callback_query.from.id", .int, required: true), FuzzField("callback_query.data", .string),
                        FuzzField("callback_query.message", .object),
                    ])
            }
            let chat = FuzzJSON.object([("id", .int(shopper)), ("first_name", .string("Анна")), ("type", .string("private"))])
            let message = FuzzJSON.object([
                ("message_id", .int(1 + random.int(100_000))), ("from", user), ("chat", chat), ("date", .int(1_714_550_400)),
                ("text", .string(words)),
            ])
            let fields = [
                FuzzField("update_id", .int, required: true), FuzzField("message", .object),
                FuzzField("message.message_id", .int, required: true), FuzzField("message.chat", .object, required: true),
                FuzzField("message.chat.id", .int, required: true), FuzzField("message.chat.type", .string, required: true),
                FuzzField("message.from", .object), FuzzField("message.from.id", .int, required: true),
                FuzzField("message.from.first_name", .string), FuzzField("message.text", .string), FuzzField("message.caption", .string),
                FuzzField("message.photo", .array), FuzzField("message.document", .object), FuzzField("message.voice", .object),
                FuzzField("message.sticker", .object), FuzzField("message.document.file_id", .string, required: true),
            ]
            return Genuine(
                json: .object([("update_id", .int(1 + random.int(900_000_000))), ("message", message)]), textPath: "message.text",
                fields: fields)
        case .whatsapp(_, _, let phone):
            let from = "7916" + random.text(7, from: "0123456789")
            let message = FuzzJSON.object([
                ("from", .string(from)), ("id", .string("wamid.HBgL" + random.text(40, from: Self.base64URL))),
                ("timestamp", .string("1749416383")), ("type", .string("text")), ("text", .object([("body", .string(words))])),
            ])
            let value = FuzzJSON.object([
                ("messaging_product", .string("whatsapp")),
                ("metadata", .object([("display_phone_number", .string("15550783881")), ("phone_number_id", .string(phone))])),
                ("contacts", .array([.object([("profile", .object([("name", .string("Анна"))])), ("wa_id", .string(from))])])),
                ("messages", .array([message])),
            ])
            let change = FuzzJSON.object([("value", value), ("field", .string("messages"))])
            let entry = FuzzJSON.object([("id", .string("102290129340398")), ("changes", .array([change]))])
            let v = "entry.0.changes.0.value"
            // Every field above a message refuses the whole body; a message's own fields cost only that message.
            let fields = [
                FuzzField("object", .string), FuzzField("entry", .array), FuzzField("entry.0", .object, required: true),
                FuzzField("entry.0.id", .string), FuzzField("entry.0.changes", .array),
                FuzzField("entry.0.changes.0", .object, required: true), FuzzField("entry.0.changes.0.field", .string),
                FuzzField(v, .object), FuzzField(v + ".metadata", .object), FuzzField(v + ".metadata.phone_number_id", .string),
                FuzzField(v + ".contacts", .array), FuzzField(v + ".contacts.0", .object, required: true),
                FuzzField(v + ".contacts.0.wa_id", .string), FuzzField(v + ".contacts.0.profile", .object),
                FuzzField(v + ".contacts.0.profile.name", .string), FuzzField(v + ".messages", .array), FuzzField(v + ".statuses", .array),
            ]
            return Genuine(
                json: .object([("object", .string("whatsapp_business_account")), ("entry", .array([entry]))]),
                textPath: v + ".messages.0.text.body", fields: fields)
        case .alice(let skill):
            return Genuine(
                json: aliceRequest(words, skill: skill, random: &random), textPath: "request.original_utterance", fields: aliceFields)
        }
    }

    /// The integer id a negative value is valid for (WhatsApp's ids are strings).
    var negativeIDPath: String? {
        switch provider {
        case .telegram: "update_id"
        case .whatsapp: nil
        case .alice: "session.message_id"
        }
    }

    /// (1) A genuine update, wrongly authenticated: 403 (for Alice a skill id that is not a string, or none, is a
    /// malformed body: 400). WhatsApp's verification GET with a wrong token, mode or challenge: 403.
    func forged(_ random: inout SplitMix64) -> FuzzCase {
        let genuine = genuine(&random)
        let body = genuine.json.bytes
        switch provider {
        case .telegram(let secret):
            var fuzz = request(.forged, "", body, signed: false)
            if random.int(8) == 0 {
                // The header twice, the wrong value first: the header's value is both, joined.
                fuzz.label = "a wrong secret header, then the right one"
                fuzz.headers.append(HTTPField(name: Self.telegramSecret, value: random.text(secret.count, from: Self.base64URL)))
                fuzz.headers.append(HTTPField(name: Self.telegramSecret, value: secret))
            } else if random.int(8) == 0 {
                fuzz.label = "WhatsApp's signature instead of the secret"
                fuzz.headers[Self.hubSignature] = WhatsAppSignature.sign(body, appSecret: secret)
            } else {
                let (label, value) = Self.wrongSecret(secret, &random)
                fuzz.label = label
                fuzz.headers[Self.telegramSecret] = value
            }
            return fuzz
        case .whatsapp(let appSecret, let verifyToken, _):
            if random.int(4) == 0 { return wrongVerification(verifyToken, &random) }
            let signature = WhatsAppSignature.sign(body, appSecret: appSecret)
            let digits = signature.dropFirst(7)
            var bent = Array(digits)
            let at = random.int(bent.count)
            bent[at] = bent[at] == "0" ? "1" : "0"
            let other = genuine.json.replacing(genuine.textPath, with: .string("Хочу вернуть деньги")).bytes
            var variants: [(String, String?, [UInt8])] = [
                ("a random signature", "sha256=" + random.text(64, from: Self.hex), body),
                ("the signature cut short", String(signature.prefix(7 + random.int(64))), body),
                ("the signature without its prefix", String(digits), body),
                ("the signature under sha1=", "sha1=" + digits, body),
                ("the signature of another body", WhatsAppSignature.sign(other, appSecret: appSecret), body),
                ("the signature under another secret", WhatsAppSignature.sign(body, appSecret: random.text(32, from: Self.hex)), body),
                ("the signature under an empty secret", WhatsAppSignature.sign(body, appSecret: ""), body),
                ("the signature with one digit changed", "sha256=" + String(bent), body),
                ("the signature with a letter that is no hex digit", "sha256=" + digits.dropLast() + "g", body),
                ("the body changed after signing", signature, body + Array(" ".utf8)),
                ("the app secret as Telegram's secret header", nil, body),
            ]
            variants += [("no signature", nil, body), ("an empty signature", "", body)]
            let (label, value, sent) = random.pick(variants)
            var fuzz = request(.forged, label, sent, signed: false)
            fuzz.headers[Self.hubSignature] = value
            if label.hasPrefix("the app secret") { fuzz.headers[Self.telegramSecret] = appSecret }
            return fuzz
        case .alice(let skill):
            if random.int(5) == 0 {
                let (label, value) = random.pick([("no skill id", nil), ("a skill id that is a number", FuzzJSON.int(random.int(1000)))])
                return request(.forged, label, genuine.json.replacing("session.skill_id", with: value).bytes, signed: false)
            }
            let (label, value) =
                random.int(3) == 0 ? ("another skill's id", UUID().uuidString.lowercased()) : Self.wrongSecret(skill, &random)
            return request(.forged, label, genuine.json.replacing("session.skill_id", with: .string(value ?? "")).bytes, signed: false)
        }
    }

    /// Meta's verification GET gone wrong (a wrong, empty, cut or missing token, another mode, a missing, empty or
    /// overlong challenge): 403.
    func wrongVerification(_ token: String, _ random: inout SplitMix64) -> FuzzCase {
        let challenge = String(random.int(Int(Int32.max)))
        var query = ["hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge]
        let (label, name, value): (String, String, String?) = random.pick([
            ("a wrong verify token", "hub.verify_token", random.text(token.count, from: Self.base64URL)),
            ("an empty verify token", "hub.verify_token", ""), ("no verify token", "hub.verify_token", nil),
            ("the verify token cut short", "hub.verify_token", String(token.prefix(random.int(token.count)))),
            ("the verify token in flipped case", "hub.verify_token", Self.flippedCase(token)),
            ("mode unsubscribe", "hub.mode", "unsubscribe"), ("no mode", "hub.mode", nil), ("no challenge", "hub.challenge", nil),
            ("an empty challenge", "hub.challenge", ""), ("a 300-digit challenge", "hub.challenge", random.text(300, from: "0123456789")),
        ])
        query[name] = value
        let encoded = query.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }
        var fuzz = request(.forged, "verification with \(label)", [], signed: false)
        fuzz.method = .get
        fuzz.path = path + "?" + encoded.joined(separator: "&")
        return fuzz
    }
}

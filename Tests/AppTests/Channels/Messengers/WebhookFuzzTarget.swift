import Foundation
import HTTPTypes

@testable import App

/// One connected webhook under fuzz: where it is, how its provider proves a request (Telegram's secret header,
/// WhatsApp's signature over the body, Alice's skill id inside it), and the body limit its controller enforces.
struct FuzzTarget {
    enum Provider {
        case telegram(secret: String)
        case whatsapp(appSecret: String, verifyToken: String, phoneNumberID: String)
        case alice(skillID: String)
    }

    /// A provider's real update, the field holding its words, and the fields its parser reads (a wrong type in any of
    /// them gets the body refused).
    struct Genuine {
        var json: FuzzJSON
        var textPath: String
        var fields: [FuzzField]
    }

    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let telegramSecret = HTTPField.Name("X-Telegram-Bot-Api-Secret-Token")!
    static let hubSignature = HTTPField.Name(WhatsAppSignature.header)!
    static let base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    static let hex = "0123456789abcdef"

    var provider: Provider
    var kind: ChannelKind
    var key: String
    var host: String
    var bodyLimit: Int

    var path: String { ChannelConnection.webhookPath(kind: kind, key: key) }

    /// The headers the provider sends with `body`: the shop's host, JSON, and its proof (none for Alice: the skill id
    /// is in the body).
    func headers(signing body: [UInt8]) -> HTTPFields {
        var headers = HTTPFields()
        headers[Self.forwardedHost] = host
        headers[.contentType] = "application/json"
        switch provider {
        case .telegram(let secret): headers[Self.telegramSecret] = secret
        case .whatsapp(let appSecret, _, _): headers[Self.hubSignature] = WhatsAppSignature.sign(body, appSecret: appSecret)
        case .alice: break
        }
        return headers
    }

    /// A request of the run; `signed` when it carries the provider's correct proof (then a 403 would mean the fuzz's
    /// own signing is broken and every refusal of the run proves nothing).
    func request(
        _ category: FuzzCase.Category, _ label: String, _ body: [UInt8], signed: Bool = true, expectation: FuzzCase.Expectation = .refused
    ) -> FuzzCase {
        var headers = headers(signing: body)
        if !signed {
            headers[Self.telegramSecret] = nil
            headers[Self.hubSignature] = nil
        }
        return FuzzCase(
            category: category, label: label, path: path, headers: headers, body: body, signed: signed, expectation: expectation)
    }

    /// Round `round`'s request: the categories take turns, so that even a short run covers each of them.
    func nextCase(round: Int, random: inout SplitMix64) -> FuzzCase {
        let categories = FuzzCase.Category.allCases
        switch categories[round % categories.count] {
        case .forged: return forged(&random)
        case .junk: return junk(&random)
        case .mistyped: return mistyped(&random)
        case .oversized: return oversized(&random)
        case .method: return wrongMethodOrType(&random)
        case .unknownKey: return unknownKey(&random)
        case .harmless: return harmless(&random)
        }
    }

    /// (2) Correctly signed bodies that are no JSON object of the provider: 400.
    func junk(_ random: inout SplitMix64) -> FuzzCase {
        var genuine = genuine(&random)
        if case .whatsapp = provider, random.int(2) == 0 { genuine.textPath = "entry.0.changes.0.value.metadata.phone_number_id" }
        let junk = FuzzJunk.body(&random, genuine: genuine.json, textPath: genuine.textPath)
        // WhatsApp reads each message of a batch on its own (Meta would resend a refused batch for days), and Foundation
        // checks a string's bytes and escapes only as it reads the string: a message whose text is broken is dropped
        // alone and the body answered 200. Telegram's body is checked whole first and Alice's has one message: 400.
        if case .whatsapp = provider, junk.inString, genuine.textPath.contains(".messages.") {
            return request(.junk, junk.label, junk.body, expectation: .harmless)
        }
        return request(.junk, junk.label, junk.body)
    }

    /// (2) Correctly signed JSON objects with a field of the wrong type (or, for Alice, ids it cannot use): 400. A
    /// third of them also carry a negative id, which alone is a valid integer.
    func mistyped(_ random: inout SplitMix64) -> FuzzCase {
        if case .alice = provider, random.int(4) == 0 { return unusableAlice(&random) }
        let genuine = genuine(&random)
        let field = random.pick(genuine.fields)
        let (label, value) = field.wrongValue(&random)
        var json = genuine.json.replacing(field.path, with: value)
        var negative = ""
        if let id = negativeIDPath, field.path != id, !id.hasPrefix(field.path + "."), random.int(3) == 0 {
            json = json.replacing(id, with: .int(-1 - random.int(1_000_000_000)))
            negative = ", and a negative \(id)"
        }
        return request(.mistyped, label + negative, json.bytes)
    }

    /// (3) Bodies over the controller's limit (signed or not, valid JSON or not): 413 (Telegram checks its secret
    /// first: 403 unsigned); and just under it, signed, with junk: 400.
    func oversized(_ random: inout SplitMix64) -> FuzzCase {
        let genuine = genuine(&random)
        let start = Array(genuine.json.bytes.prefix(20 + random.int(40)))
        switch random.int(3) {
        case 0:
            let size = bodyLimit + 1 + random.int(64 * 1024)
            let base = genuine.json.replacing(genuine.textPath, with: .string("")).bytes.count
            let json = genuine.json.replacing(genuine.textPath, with: .string(String(repeating: "x", count: size - base)))
            var fuzz = request(.oversized, "a genuine update of \(size) bytes (limit \(bodyLimit))", json.bytes)
            fuzz.exactly = 413
            return fuzz
        case 1:
            let size = bodyLimit + 1 + random.int(256 * 1024)
            let (name, body) = FuzzJunk.padding(&random, count: size, start: start)
            let signed = random.int(2) == 0
            var fuzz = request(.oversized, "\(size) bytes of \(name), \(signed ? "signed" : "unsigned")", body, signed: signed)
            if case .telegram = provider, !signed { fuzz.exactly = 403 } else { fuzz.exactly = 413 }
            return fuzz
        default:
            let size = bodyLimit - 1 - random.int(1024)
            let (name, body) = FuzzJunk.padding(&random, count: size, start: start)
            return request(.oversized, "\(size) bytes of \(name), just under the limit", body)
        }
    }

    /// (4) A signed update with another method (404 or 405; a GET on WhatsApp's is Meta's verification without its
    /// query: 403), or a signed body in another format (400).
    func wrongMethodOrType(_ random: inout SplitMix64) -> FuzzCase {
        let genuine = genuine(&random).json.bytes
        if random.int(2) == 0 {
            let method = random.pick([HTTPRequest.Method.get, .put, .delete, .patch, .options])
            var fuzz = request(.method, "a genuine update sent with \(method)", genuine)
            fuzz.method = method
            if case .whatsapp = provider, method == .get { fuzz.signed = false }
            return fuzz
        }
        let words = "Сколько идёт доставка?"
        let formats: [(String?, String, [UInt8])] = [
            ("application/x-www-form-urlencoded", "a form", Array("update_id=845601234&message%5Btext%5D=hi&skill_id=x".utf8)),
            (
                "multipart/form-data; boundary=fuzz", "a multipart form with the update as a part",
                Array("--fuzz\r\nContent-Disposition: form-data; name=\"update\"\r\n\r\n".utf8) + genuine + Array("\r\n--fuzz--\r\n".utf8)
            ),
            ("text/plain; charset=utf-8", "plain text", Array(words.utf8)),
            ("application/xml", "XML", Array("<update><text>\(words)</text></update>".utf8)),
            ("application/octet-stream", "random bytes", random.bytes(1 + random.int(2048))),
            (nil, "no content type and random bytes", random.bytes(1 + random.int(2048))),
            ("application/json", "gzip-encoded bytes", [0x1F, 0x8B, 0x08, 0x00] + random.bytes(64 + random.int(512))),
        ]
        let (type, name, body) = random.pick(formats)
        var fuzz = request(.method, "\(name) (\(type ?? "no content type"))", body)
        fuzz.headers[.contentType] = type
        if name.hasPrefix("gzip") { fuzz.headers[.contentEncoding] = "gzip" }
        return fuzz
    }

    /// (5) A signed genuine update to a key (or a kind) the shop has no connection for: 404.
    func unknownKey(_ random: inout SplitMix64) -> FuzzCase {
        let alphabet = "abcdefghijklmnopqrstuvwxyz234567"
        var changed = Array(key)
        let at = random.int(changed.count)
        changed[at] = changed[at] == "a" ? "b" : "a"
        let others = ChannelKind.allCases.filter { $0 != kind }.map(\.rawValue)
        let percent = random.bytes(32).map { String(format: "%%%02X", $0) }.joined()
        let paths: [(String, String)] = [
            ("a random key", "/hooks/\(kind.rawValue)/" + random.text(32, from: alphabet)),
            ("the key with one letter changed", "/hooks/\(kind.rawValue)/" + String(changed)),
            ("the key in capitals", "/hooks/\(kind.rawValue)/" + key.uppercased()),
            ("the key cut short", "/hooks/\(kind.rawValue)/" + key.prefix(random.int(key.count))),
            ("the key and more", "/hooks/\(kind.rawValue)/" + key + random.text(1 + random.int(64), from: alphabet)),
            ("the key under another kind", "/hooks/\(random.pick(others))/" + key),
            ("the key under an unknown kind", "/hooks/viber/" + key),
            ("no key", "/hooks/\(kind.rawValue)/"),
            ("a 4,000-letter key", "/hooks/\(kind.rawValue)/" + random.text(4000, from: alphabet)),
            ("32 percent-encoded random bytes", "/hooks/\(kind.rawValue)/" + percent),
            ("a NUL and 31 letters", "/hooks/\(kind.rawValue)/%00" + random.text(31, from: alphabet)),
            ("an invalid UTF-8 byte and 31 letters", "/hooks/\(kind.rawValue)/%FF" + random.text(31, from: alphabet)),
            ("a traversal", "/hooks/\(kind.rawValue)/..%2F" + key),
            ("the key and a segment", "/hooks/\(kind.rawValue)/" + key + "/extra"),
        ]
        let (label, path) = random.pick(paths)
        var fuzz = request(.unknownKey, label, genuine(&random).json.bytes)
        fuzz.path = path
        return fuzz
    }
}

extension FuzzTarget {
    /// `text` with its capitals small and its small letters capitals.
    static func flippedCase(_ text: String) -> String {
        String(text.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) })
    }

    /// A secret changed in one of the ways a forger (or a bug) would: missing, empty, random, cut, longer, in other
    /// case, one character off. Nil removes the header.
    static func wrongSecret(_ secret: String, _ random: inout SplitMix64) -> (String, String?) {
        var changed = Array(secret)
        let at = random.int(changed.count)
        changed[at] = changed[at] == "A" ? "B" : "A"
        let flipped = flippedCase(secret) == secret ? String(changed) : flippedCase(secret)
        let variants: [(String, String?)] = [
            ("no secret", nil),
            ("an empty secret", ""),
            ("a random secret of its length", random.text(secret.count, from: base64URL)),
            ("the secret cut short", String(secret.prefix(1 + random.int(max(secret.count - 1, 1))))),
            ("the secret and one more character", secret + random.text(1, from: base64URL)),
            ("the secret in flipped case", flipped),
            ("the secret with one character changed", String(changed)),
            ("the secret with a space inside", String(secret.prefix(secret.count / 2)) + " " + secret.dropFirst(secret.count / 2)),
        ]
        return random.pick(variants)
    }
}

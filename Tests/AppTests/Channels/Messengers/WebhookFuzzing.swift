import Foundation
import HTTPTypes

@testable import App

/// SplitMix64 (Steele, Lea and Flood): a tiny seedable generator, so that a seed replays a fuzz run request for request.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`.
    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count { withUnsafeBytes(of: next()) { out.append(contentsOf: $0) } }
        return Array(out.prefix(count))
    }

    /// `count` characters of `alphabet`.
    mutating func text(_ count: Int, from alphabet: String = "abcdefghijklmnopqrstuvwxyz234567") -> String {
        let characters = Array(alphabet)
        return String((0..<count).map { _ in characters[int(characters.count)] })
    }
}

/// The run's seed and rounds: fixed by default, `VITRINA_FUZZ_SEED` and `VITRINA_FUZZ_ROUNDS` to replay or go longer.
struct FuzzSettings {
    var seed: UInt64 = 0x5EED_F022_0C0F_FEE5
    var rounds = 60
    /// `VITRINA_FUZZ_VERBOSE=1`: every request and its status, to read a run.
    var verbose = false

    static func fromEnvironment() -> FuzzSettings {
        let environment = ProcessInfo.processInfo.environment
        var settings = FuzzSettings()
        if let rounds = environment["VITRINA_FUZZ_ROUNDS"].flatMap({ Int($0) }), rounds > 0 { settings.rounds = rounds }
        settings.verbose = environment["VITRINA_FUZZ_VERBOSE"] == "1"
        if let text = environment["VITRINA_FUZZ_SEED"] {
            let hex = text.lowercased().hasPrefix("0x")
            if let seed = UInt64(hex ? String(text.dropFirst(2)) : text, radix: hex ? 16 : 10) { settings.seed = seed }
        }
        return settings
    }
}

/// JSON written by hand, so that it can be wrong on purpose: numbers are their literal text (huge, negative), `raw` is
/// written as is (invalid UTF-8, nesting past the parser's depth limit), and objects keep their order (a seed gives
/// the same bytes on every run).
indirect enum FuzzJSON: Sendable {
    case object([(String, FuzzJSON)])
    case array([FuzzJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case raw([UInt8])

    static func int(_ value: Int) -> FuzzJSON { .number(String(value)) }

    /// `depth` nested arrays or objects, written as raw bytes (past 512 levels Foundation's parser refuses the body).
    static func nested(depth: Int, objects: Bool) -> FuzzJSON {
        let open = objects ? #"{"a":"# : "["
        let close = objects ? "}" : "]"
        return .raw(Array((String(repeating: open, count: depth) + "0" + String(repeating: close, count: depth)).utf8))
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                FuzzJSON.string(key).write(to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let text):
            out.append(UInt8(ascii: "\""))
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += Array(#"\""#.utf8)
                case "\\": out += Array(#"\\"#.utf8)
                case _ where scalar.value < 0x20: out += Array(String(format: "\\u%04x", scalar.value).utf8)
                default: out += Array(String(scalar).utf8)
                }
            }
            out.append(UInt8(ascii: "\""))
        case .number(let literal): out += Array(literal.utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .null: out += Array("null".utf8)
        case .raw(let bytes): out += bytes
        }
    }

    /// This value with the one at the dotted `path` replaced (added to an object that lacks it), or removed for nil.
    func replacing(_ path: String, with value: FuzzJSON?) -> FuzzJSON {
        replacing(path.split(separator: ".").map(String.init)[...], with: value)
    }

    private func replacing(_ path: ArraySlice<String>, with value: FuzzJSON?) -> FuzzJSON {
        guard let head = path.first else { return value ?? .null }
        let rest = path.dropFirst()
        switch self {
        case .object(var members):
            if let index = members.firstIndex(where: { $0.0 == head }) {
                if rest.isEmpty, value == nil {
                    members.remove(at: index)
                } else {
                    members[index].1 = members[index].1.replacing(rest, with: value)
                }
            } else if let value {
                members.append((head, FuzzJSON.object([]).replacing(rest, with: value)))
            }
            return .object(members)
        case .array(var items):
            guard let index = Int(head), items.indices.contains(index) else { return self }
            if rest.isEmpty, value == nil {
                items.remove(at: index)
            } else {
                items[index] = items[index].replacing(rest, with: value)
            }
            return .array(items)
        default:
            return self
        }
    }
}

/// A field of a provider's payload, by its dotted path, and what its parser expects there.
struct FuzzField {
    enum Kind: Equatable { case int, string, bool, object, array }
    var path: String
    var kind: Kind
    /// A required field: `null` is as wrong as a value of another type (an optional one reads `null` as absent).
    var required = false

    init(_ path: String, _ kind: Kind, required: Bool = false) {
        self.path = path
        self.kind = kind
        self.required = required
    }

    /// A value its parser cannot take: another type, an integer past Int64, a fraction, an overflowing exponent, or
    /// nesting (of another type, or past the depth limit). Never a valid value: a negative integer is an Int64.
    func wrongValue(_ random: inout SplitMix64) -> (String, FuzzJSON) {
        let digits = String(repeating: "9", count: 20 + random.int(300))
        let shallow = 2 + random.int(500)
        let deep = 513 + random.int(5000)
        // Each value with the kind it would be valid for; nil: valid nowhere (no parser takes these numbers).
        var pool: [(String, FuzzJSON, Kind?)] = [
            ("a numeric string", .string(String(100_000 + random.int(900_000_000))), .string),
            ("an empty string", .string(""), .string),
            ("a word", .string(random.text(1 + random.int(40))), .string),
            ("a huge integer", .number(digits), nil),
            ("a huge negative integer", .number("-" + digits), nil),
            ("a fraction", .number("\(random.int(1000)).5"), nil),
            ("an overflowing exponent", .number("1e\(400 + random.int(9000))"), nil),
            ("a boolean", .bool(random.int(2) == 0), .bool),
            ("an empty array", .array([]), .array),
            ("an array", .array([.int(1), .string("2"), .null]), .array),
            ("\(shallow) nested arrays", .nested(depth: shallow, objects: false), .array),
            ("an empty object", .object([]), .object),
            ("an object", .object([("id", .int(random.int(1000)))]), .object),
            ("\(shallow) nested objects", .nested(depth: shallow, objects: true), .object),
            ("\(deep) nested values", .nested(depth: deep, objects: random.int(2) == 0), nil),
        ]
        pool.removeAll { $0.2 == kind }
        if required { pool.append(("null", .null, nil)) }
        let (name, value, _) = random.pick(pool)
        return ("\(path) as \(name)", value)
    }
}

/// One request of the run and what it must get back.
struct FuzzCase {
    enum Category: String, CaseIterable {
        case forged, junk, mistyped, oversized, method, unknownKey, harmless
    }

    enum Expectation {
        /// Wrongly signed, malformed, oversized, a wrong method or an unknown key: a 4xx, nothing stored.
        case refused
        /// Correctly signed, well-formed JSON that carries nothing to store (an update kind the bot ignores, a health
        /// check): a 2xx or a 4xx, nothing stored.
        case harmless
    }

    var category: Category
    var label: String
    var method: HTTPRequest.Method = .post
    var path: String
    var headers: HTTPFields
    var body: [UInt8]
    /// Whether it carries the provider's correct proof: then it must never be refused as forged (403).
    var signed: Bool
    var expectation: Expectation
    /// The one status it must get, when the controller promises one (413 past the body limit).
    var exactly: Int? = nil
}

/// Bodies no provider's parser can take, whatever the signature: not JSON, cut short, JSON of another type, invalid
/// UTF-8 inside a string, random bytes. `genuine` is a real update of the provider and `textPath` its words. `inString`
/// says the fault is inside the text's string only (Foundation checks a string's bytes and escapes when it reads it).
enum FuzzJunk {
    static func body(_ random: inout SplitMix64, genuine: FuzzJSON, textPath: String) -> (label: String, body: [UInt8], inString: Bool) {
        let whole = genuine.bytes
        switch random.int(9) {
        case 0:
            return ("an empty body", [], false)
        case 1:
            let text = random.pick([
                "hello", "update_id=1&text=hi", "<update><id>1</id></update>", "{not json", "{'update_id': 1}", "NaN", #"{"a" 1}"#,
                "{\"a\":\"b\"", "}{", "\"unterminated", "[1,2", "--boundary\r\nContent-Disposition: form-data\r\n\r\nx",
            ])
            return ("not JSON: \(text.prefix(20))", Array(text.utf8), false)
        case 2:
            let cut = 1 + random.int(whole.count - 1)
            return ("the update cut at \(cut) of \(whole.count) bytes", Array(whole.prefix(cut)), false)
        case 3:
            let other = random.pick([
                ("an array", "[]"), ("the update in an array", "[" + String(decoding: whole, as: UTF8.self) + "]"),
                ("a string", #""update""#),
                ("a number", "42"), ("a negative number", "-845601234"), ("null", "null"), ("true", "true"), ("a huge number", "1e400"),
            ])
            return ("JSON of the wrong type: \(other.0)", Array(other.1.utf8), false)
        case 4:
            let bad: [[UInt8]] = [
                [0xFF], [0xC0, 0x80], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x00], [0x0A],
            ]
            let bytes = random.pick(bad)
            let value = FuzzJSON.raw(Array(#""Где "#.utf8) + bytes + Array(#" заказ""#.utf8))
            return ("invalid UTF-8 or a raw control byte \(bytes) in \(textPath)", genuine.replacing(textPath, with: value).bytes, true)
        case 5:
            // A lone surrogate is well-formed JSON that no Swift string can hold; the others are no JSON at all.
            let escape = random.pick([#"\ud800"#, #"\udc00x"#, #"\ud83d\u0041"#, #"\x41"#, #"\u12"#, #"\q"#])
            let value = FuzzJSON.raw(Array("\"Где \(escape) заказ\"".utf8))
            let kind = escape.hasPrefix(#"\ud"#) ? "a lone surrogate" : "a broken escape"
            return ("\(kind) \(escape) in \(textPath)", genuine.replacing(textPath, with: value).bytes, true)
        case 6:
            let count = 1 + random.int(4096)
            return ("\(count) random bytes", random.bytes(count), false)
        case 7:
            let depth = 513 + random.int(20_000)
            return ("\(depth) nested arrays", FuzzJSON.nested(depth: depth, objects: random.int(2) == 0).bytes, false)
        default:
            let tail = random.pick(["}", "x", "{}", String(decoding: whole, as: UTF8.self), ",", "\u{0}"])
            return ("the update and trailing bytes", whole + Array(tail.utf8), false)
        }
    }

    /// `count` bytes that are no JSON value: the start of an update and then junk (random bytes, nesting past the
    /// limit, a bare word, an unterminated string).
    static func padding(_ random: inout SplitMix64, count: Int, start: [UInt8]) -> (String, [UInt8]) {
        let fill = max(count - start.count, 1)
        let (name, tail): (String, [UInt8])
        switch random.int(4) {
        case 0: (name, tail) = ("random bytes", random.bytes(fill))
        case 1: (name, tail) = ("nested arrays", Array(repeating: UInt8(ascii: "["), count: fill))
        case 2: (name, tail) = ("a bare word", Array(repeating: UInt8(ascii: "x"), count: fill))
        default: (name, tail) = ("an unterminated string", [UInt8(ascii: "\"")] + Array(repeating: UInt8(ascii: "a"), count: fill - 1))
        }
        return (name, Array((start + tail).prefix(count)))
    }
}

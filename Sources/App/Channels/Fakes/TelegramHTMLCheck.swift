/// Telegram's `parse_mode: HTML`, as the Bot API documents it (https://core.telegram.org/bots/api#html-style): only its
/// tags, balanced; `<`, `>` and `&` outside tags and entities refused; the named entities `&lt;`, `&gt;`, `&amp;`,
/// `&quot;` and numeric ones. Returns the text a shopper sees, or throws Telegram's sentence after "can't parse entities: ".
enum TelegramHTMLCheck {
    static let tags: Set<String> = [
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span", "blockquote", "tg-emoji",
    ]
    static let entities: [String: String] = ["lt": "<", "gt": ">", "amp": "&", "quot": "\""]

    static func plainText(_ html: String) throws(FakeTelegramRefusal) -> String {
        let bytes = Array(html.utf8)
        var plain: [UInt8] = []
        plain.reserveCapacity(bytes.count)
        var open: [String] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "<"):
                guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else {
                    throw FakeTelegramRefusal("Can't find end of the tag starting at byte offset \(index)")
                }
                let inside = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
                if inside.hasPrefix("/") {
                    let name = inside.dropFirst().trimmingWhitespace().lowercased()
                    guard let last = open.last else { throw FakeTelegramRefusal("Unexpected end tag at byte offset \(index)") }
                    guard last == name else {
                        throw FakeTelegramRefusal("Can't find end tag corresponding to start tag \"\(last)\"")
                    }
                    open.removeLast()
                } else {
                    let name = String(inside.prefix { !$0.isWhitespace }).lowercased()
                    guard tags.contains(name) else {
                        throw FakeTelegramRefusal("Unsupported start tag \"\(name)\" at byte offset \(index)")
                    }
                    let attributes = inside.dropFirst(name.count).trimmingWhitespace()
                    if name == "a", !attributes.lowercased().hasPrefix("href=") {
                        throw FakeTelegramRefusal("Tag \"a\" must have attribute \"href\" at byte offset \(index)")
                    }
                    if name == "span", attributes.replacingOccurrences(of: "'", with: "\"") != "class=\"tg-spoiler\"" {
                        throw FakeTelegramRefusal("Tag \"span\" must have class \"tg-spoiler\" at byte offset \(index)")
                    }
                    open.append(name)
                }
                index = end + 1
            case UInt8(ascii: ">"):
                throw FakeTelegramRefusal("Character '>' is reserved at byte offset \(index): escape it as &gt;")
            case UInt8(ascii: "&"):
                let limit = min(bytes.count, index + 12)
                guard let semicolon = bytes[index..<limit].firstIndex(of: UInt8(ascii: ";")),
                    let character = entity(String(decoding: bytes[(index + 1)..<semicolon], as: UTF8.self))
                else { throw FakeTelegramRefusal("Unsupported HTML entity at byte offset \(index): escape '&' as &amp;") }
                plain += Array(character.utf8)
                index = semicolon + 1
            default:
                plain.append(byte)
                index += 1
            }
        }
        if let last = open.last { throw FakeTelegramRefusal("Can't find end tag corresponding to start tag \"\(last)\"") }
        return String(decoding: plain, as: UTF8.self)
    }

    private static func entity(_ name: String) -> String? {
        if let character = entities[name] { return character }
        guard name.hasPrefix("#") else { return nil }
        let digits = name.dropFirst()
        let code = digits.lowercased().hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
        return code.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

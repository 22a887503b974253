/// What the webhooks do to a verified body before parsing it: a NUL character (`\u0000`, valid in JSON) would reach
/// PostgreSQL, whose text and jsonb cannot hold it, and fail the update's transaction on every redelivery (a 503 the
/// provider resends for a day). It becomes U+FFFD, the replacement character, in place (both escapes are six bytes).
enum WebhookJSON {
    static func replacingNUL(_ body: [UInt8]) -> [UInt8] {
        let escape = Array(#"\u0000"#.utf8)
        guard body.count >= escape.count else { return body }
        var out = body
        var index = 0
        while index < out.count {
            guard out[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            // An escape is a backslash and the character after it (so `\\u0000` is a backslash and the text "u0000").
            if index + escape.count <= out.count, out[index..<index + escape.count].elementsEqual(escape) {
                out.replaceSubrange(index + 2..<index + escape.count, with: Array("fffd".utf8))
            }
            index += 2
        }
        return out
    }
}

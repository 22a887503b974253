import Foundation

/// An `application/x-www-form-urlencoded` body, parsed once by `SessionMiddleware` (which checks its CSRF field).
public struct FormData: Sendable {
    public private(set) var values: [String: String] = [:]

    public init(values: [String: String] = [:]) {
        self.values = values
    }

    /// Parses a form body; the last value of a repeated field wins. Invalid percent-escapes are kept as written.
    public init(urlEncoded body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            values[key] = value
        }
    }

    public subscript(_ key: String) -> String? { values[key] }

    /// A text field, trimmed; empty when absent.
    public func text(_ key: String) -> String {
        (values[key] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A field as typed (passwords are not trimmed), with Windows line endings made Unix ones.
    public func raw(_ key: String) -> String {
        (values[key] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// Percent-decoded, without control characters other than tab and line breaks (PostgreSQL refuses NUL in text,
    /// and nobody types the others).
    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        let decoded = spaced.removingPercentEncoding ?? spaced
        return decoded.withoutControlCharacters
    }
}

extension String {
    /// The text without C0 control characters (except tab, line feed and carriage return) and DEL.
    var withoutControlCharacters: String {
        guard unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0x7F }) else {
            return self
        }
        return String(
            String.UnicodeScalarView(
                unicodeScalars.filter { !(($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0x7F) }))
    }

    /// Length as PostgreSQL's `length()` counts it (code points), for checks that must agree with the table's.
    var databaseLength: Int { unicodeScalars.count }
}

/// Field errors for a form, keyed by field name; the page shows them beside the fields and keeps what was typed.
public struct FormErrors: Sendable {
    public private(set) var messages: [String: String] = [:]

    public init() {}

    public var isEmpty: Bool { messages.isEmpty }

    public mutating func add(_ field: String, _ message: String) {
        if messages[field] == nil { messages[field] = message }
    }

    public subscript(_ field: String) -> String? { messages[field] }
}

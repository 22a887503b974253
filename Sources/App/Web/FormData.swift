import Foundation

/// An `application/x-www-form-urlencoded` body, parsed once by `SessionMiddleware` (which checks its CSRF field).
public struct FormData: Sendable {
    public private(set) var values: [String: String] = [:]
    /// Files of a `multipart/form-data` body, by field name (fields left empty in the browser are absent).
    public private(set) var files: [String: UploadedFile] = [:]

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

    /// Parses a `multipart/form-data` body (RFC 7578). Text fields get the same cleaning as URL-encoded ones; files
    /// keep their bytes. Returns `nil` for a body that does not follow the format.
    public init?(multipart body: [UInt8], boundary: String) {
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n--\(boundary)".utf8)
        guard !boundary.isEmpty, boundary.utf8.count <= 70, var position = Self.find(delimiter, in: body, from: 0) else { return nil }
        position += delimiter.count
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if body.count >= position + 2, body[position] == UInt8(ascii: "-"), body[position + 1] == UInt8(ascii: "-") { return }
            guard body.count >= position + 2, body[position] == 13, body[position + 1] == 10 else { return nil }
            position += 2
            guard let headerEnd = Self.find([13, 10, 13, 10], in: body, from: position),
                let end = Self.find(separator, in: body, from: headerEnd + 4)
            else { return nil }
            let headers = String(decoding: body[position..<headerEnd], as: UTF8.self)
            let content = Array(body[(headerEnd + 4)..<end])
            position = end + separator.count
            var name: String?
            var filename: String?
            var contentType = "text/plain"
            for line in headers.split(separator: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    name = Self.parameter("name", in: String(line))
                    filename = Self.parameter("filename", in: String(line))
                } else if lower.hasPrefix("content-type:") {
                    contentType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            guard let name else { return nil }
            if let filename {
                if !content.isEmpty || !filename.isEmpty {
                    files[name] = UploadedFile(filename: filename.withoutControlCharacters, contentType: contentType, bytes: content)
                }
            } else {
                values[name] = String(decoding: content, as: UTF8.self).withoutControlCharacters
            }
        }
    }

    /// A quoted (or bare) parameter of a header line, e.g. `name="logo"`.
    static func parameter(_ key: String, in line: String) -> String? {
        for piece in line.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.replacingOccurrences(of: "%22", with: "\"")
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
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

extension Unicode.Scalar {
    /// A C0 control character (U+0000–U+001F) or DEL.
    public var isASCIIControl: Bool { value < 0x20 || value == 0x7F }
}

extension String {
    /// The text without C0 control characters (except tab, line feed and carriage return) and DEL.
    var withoutControlCharacters: String {
        let dropped: (Unicode.Scalar) -> Bool = { $0.isASCIIControl && $0 != "\t" && $0 != "\n" && $0 != "\r" }
        guard unicodeScalars.contains(where: dropped) else { return self }
        return String(String.UnicodeScalarView(unicodeScalars.filter { !dropped($0) }))
    }

    /// Length as PostgreSQL's `length()` counts it (code points), for checks that must agree with the table's.
    var databaseLength: Int { unicodeScalars.count }
}

/// A file from a `multipart/form-data` form. Its name and type are the browser's claims: checks look at the bytes.
public struct UploadedFile: Sendable {
    public let filename: String
    public let contentType: String
    public let bytes: [UInt8]
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

import Foundation

/// An address with an optional display name.
public struct MailAddress: Sendable, Equatable {
    public var email: String
    public var name: String?

    /// Creates an address; `name` is what mail clients show instead of the bare address.
    public init(_ email: String, name: String? = nil) {
        self.email = email
        self.name = name
    }

    /// Parses `addr@example.com` or `Name <addr@example.com>` (the name may be in double quotes).
    init?(parsing text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        var email = text
        var name: String?
        if let open = text.lastIndex(of: "<") {
            guard text.hasSuffix(">") else { return nil }
            email = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            var display = text[..<open].trimmingCharacters(in: .whitespaces)
            if display.count >= 2, display.hasPrefix("\""), display.hasSuffix("\"") { display = String(display.dropFirst().dropLast()) }
            name = display.isEmpty ? nil : display
        }
        self.init(email, name: name)
        guard isValid else { return nil }
    }

    /// Whether `email` can go into an SMTP command and a header verbatim: ASCII, `local@domain`, no spaces or brackets.
    /// Anything else could smuggle a second command or header, and non-ASCII needs SMTPUTF8, which is not supported.
    var isValid: Bool {
        let forbidden = Set("<>()[]\\,;:\"".unicodeScalars)
        guard email.utf8.count <= 254,
            email.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) && !forbidden.contains($0) }),
            let at = email.lastIndex(of: "@")
        else { return false }
        return at != email.startIndex && email.index(after: at) != email.endIndex
    }

    /// The part after the last `@`, for Message-IDs.
    var domain: String {
        email.lastIndex(of: "@").map { String(email[email.index(after: $0)...]) } ?? ""
    }

    /// Header tokens: the display name (quoted or RFC 2047 encoded) then `<email>`, or the bare address.
    var headerTokens: [String] {
        let name = MIME.headerText(name ?? "")
        guard !name.isEmpty else { return [email] }
        let printable = name.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
        if printable && name.count <= 60 && !name.contains("=?") {
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return ["\"\(escaped)\"", "<\(email)>"]
        }
        return MIME.encodedWords(name) + ["<\(email)>"]
    }
}

/// A message with a plain-text part and an optional HTML part.
public struct MailMessage: Sendable, Equatable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var subject: String
    public var text: String
    public var html: String?
    /// Without the angle brackets; generated (`random@sender-domain`) when nil.
    public var messageID: String?

    /// Creates a message; `html`, when given, becomes the preferred alternative to `text`.
    public init(from: MailAddress, to: [MailAddress], subject: String, text: String, html: String? = nil, messageID: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
    }

    /// The RFC 5322 message: headers (Date, From, To, Subject, Message-ID, MIME-Version, Content-Type...) and body, CRLF line endings.
    public func rendered(date: Date = Date()) -> String {
        var recipients: [String] = []
        for (index, address) in to.enumerated() {
            var tokens = address.headerTokens
            if index < to.count - 1, let last = tokens.popLast() { tokens.append(last + ",") }
            recipients += tokens
        }
        let domain = from.domain.isEmpty ? "localhost" : from.domain
        // Only characters that are legal in a msg-id survive, so a caller's ID cannot break the header.
        let id = (messageID ?? "").unicodeScalars.filter { (0x21...0x7E).contains($0.value) && $0 != "<" && $0 != ">" }
        var lines = [
            "Date: " + MIME.date(date),
            MIME.header("From", from.headerTokens),
            MIME.header("To", recipients),
            MIME.header("Subject", MIME.subjectTokens(subject)),
            "Message-ID: <" + (id.isEmpty ? "\(MIME.randomHex(bytes: 16))@\(domain)" : String(id)) + ">",
            "MIME-Version: 1.0",
        ]
        if let html {
            // The boundary names nothing: a partner's client who views the source sees no product name in it.
            let boundary = "=_part_" + MIME.randomHex(bytes: 12)
            lines += ["Content-Type: multipart/alternative;", " boundary=\"\(boundary)\"", ""]
            lines += ["--" + boundary] + MIME.part(text, type: "text/plain")
            lines += ["--" + boundary] + MIME.part(html, type: "text/html")
            lines += ["--" + boundary + "--"]
        } else {
            lines += MIME.part(text, type: "text/plain")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

/// MIME and RFC 5322 building blocks. Everything they produce is 7-bit ASCII with lines well under 998 octets.
enum MIME {
    /// Header lines are folded before this width (RFC 5322 recommends 78; RFC 2047 wants 76 for encoded words).
    static let lineWidth = 76
    /// 39 octets become 52 base64 characters, a 64-character encoded word that fits after `Subject: `.
    static let encodedWordOctets = 39

    /// `Name: token token...` folded onto continuation lines at token boundaries.
    static func header(_ name: String, _ tokens: [String]) -> String {
        var result = name + ":"
        var lineLength = result.count
        for token in tokens {
            if lineLength + 1 + token.count > lineWidth && lineLength > name.count + 1 {
                result += "\r\n"
                lineLength = 0
            }
            result += " " + token
            lineLength += 1 + token.count
        }
        return result
    }

    /// Printable ASCII subjects stay readable (split at single spaces); anything else becomes encoded words.
    static func subjectTokens(_ subject: String) -> [String] {
        let subject = headerText(subject)
        guard !subject.isEmpty else { return [] }
        let words = subject.split(separator: " ", omittingEmptySubsequences: false)
        let plain =
            subject.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) } && !subject.contains("=?")
            && words.allSatisfy { !$0.isEmpty && $0.count <= 70 }
        return plain ? words.map(String.init) : encodedWords(subject)
    }

    /// RFC 2047 `=?UTF-8?B?...?=` words, split between Unicode scalars so that no word cuts a character in half.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk.removeAll()
        }
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > encodedWordOctets { flush() }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { flush() }
        return words
    }

    /// Header text with control characters (CR and LF above all) turned into spaces, so it cannot start a new header.
    static func headerText(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        return cleaned.trimmingCharacters(in: .whitespaces)
    }

    /// One body part: headers, blank line, base64 of the UTF-8 text in canonical CRLF form, 76 characters a line.
    static func part(_ content: String, type: String) -> [String] {
        let canonical = content.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
        let encoded = Data(canonical.utf8).base64EncodedString()
        var lines = ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""]
        var start = encoded.startIndex
        while start < encoded.endIndex {
            let end = encoded.index(start, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[start..<end]))
            start = end
        }
        return lines
    }

    /// `Wed, 25 Nov 2026 21:19:49 +0000`, in UTC and the POSIX locale whatever the server's settings.
    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .gmt
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    /// Lowercase hex of random bytes, for Message-IDs and boundaries.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }.joined()
    }
}

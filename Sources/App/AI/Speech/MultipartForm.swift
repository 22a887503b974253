import NIOCore

/// A `multipart/form-data` body (RFC 7578), written by hand: text fields and files under a random boundary that
/// appears in none of the parts.
struct MultipartForm {
    enum Part {
        case field(name: String, value: String)
        case file(name: String, fileName: String, contentType: String, data: ByteBuffer)
    }

    var parts: [Part] = []

    mutating func field(_ name: String, _ value: String) { parts.append(.field(name: name, value: value)) }

    mutating func file(_ name: String, fileName: String, contentType: String, data: ByteBuffer) {
        parts.append(.file(name: name, fileName: fileName, contentType: contentType, data: data))
    }

    /// The `Content-Type` header and the body.
    func encoded() -> (contentType: String, body: ByteBuffer) {
        var boundary = Self.randomBoundary()
        while parts.contains(where: { $0.contains(boundary) }) { boundary = Self.randomBoundary() }
        var body = ByteBuffer()
        body.reserveCapacity(parts.reduce(256) { $0 + $1.size + 160 })
        for part in parts {
            body.writeString("--\(boundary)\r\n")
            switch part {
            case .field(let name, let value):
                body.writeString("Content-Disposition: form-data; name=\"\(Self.escaped(name))\"\r\n\r\n")
                body.writeString(value)
            case .file(let name, let fileName, let contentType, var data):
                body.writeString(
                    "Content-Disposition: form-data; name=\"\(Self.escaped(name))\"; filename=\"\(Self.escaped(fileName))\"\r\n")
                body.writeString("Content-Type: \(Self.headerValue(contentType))\r\n\r\n")
                body.writeBuffer(&data)
            }
            body.writeString("\r\n")
        }
        body.writeString("--\(boundary)--\r\n")
        return ("multipart/form-data; boundary=\(boundary)", body)
    }

    /// 128 random bits in hex, behind a prefix: a clip holding it by chance is a 2⁻¹²⁸ event, checked anyway.
    static func randomBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let bits = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }
        return "form-" + bits.map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
    }

    /// A name or file name as it goes between quotes: the HTML standard's form-data encoding percent-encodes `"`, CR
    /// and LF (a browser's way, which servers expect); other characters, UTF-8 included, stay as they are.
    static func escaped(_ value: String) -> String {
        var result = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "%22"
            case "\r": result += "%0D"
            case "\n": result += "%0A"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A header value without line breaks, so that a content type cannot add headers of its own.
    static func headerValue(_ value: String) -> String {
        String(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }
}

extension MultipartForm.Part {
    fileprivate var size: Int {
        switch self {
        case .field(_, let value): value.utf8.count
        case .file(_, _, _, let data): data.readableBytes
        }
    }

    fileprivate func contains(_ boundary: String) -> Bool {
        let needle = Array(boundary.utf8)
        switch self {
        case .field(_, let value): return Array(value.utf8).firstRange(of: needle) != nil
        case .file(_, _, _, let data): return data.readableBytesView.firstRange(of: needle) != nil
        }
    }
}

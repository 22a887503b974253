import Foundation

/// Reads a `multipart/form-data` body as a server would (RFC 7578): the boundary from the content type, each part's
/// `Content-Disposition` name and file name (quoted, `%22`-escaped) and `Content-Type`, and its bytes untouched.
struct MultipartParser {
    struct Part: Equatable {
        var name: String
        var fileName: String?
        var contentType: String?
        var data: [UInt8]

        var text: String { String(decoding: data, as: UTF8.self) }
    }

    enum Failure: Error {
        case noBoundary, noClosingDelimiter, partWithoutHeaders, noName
    }

    /// The parts of `body`, in order.
    static func parse(_ body: [UInt8], contentType: String) throws -> [Part] {
        guard contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundary = contentType.components(separatedBy: "boundary=").last.map({
                $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            }),
            !boundary.isEmpty, boundary != contentType
        else { throw Failure.noBoundary }
        let delimiter = Array("--\(boundary)".utf8)
        var chunks: [ArraySlice<UInt8>] = []
        var rest = body[...]
        while let range = rest.firstRange(of: delimiter) {
            chunks.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        // Before the first delimiter is the preamble; after the last, `--` and the epilogue.
        guard chunks.count >= 1, rest.starts(with: Array("--".utf8)) else { throw Failure.noClosingDelimiter }
        return try chunks.dropFirst().map(part)
    }

    /// One part: CRLF, headers, a blank line, the content, and the CRLF that belongs to the next delimiter.
    private static func part(_ chunk: ArraySlice<UInt8>) throws -> Part {
        let crlf: [UInt8] = [13, 10]
        guard chunk.starts(with: crlf), chunk.count >= 4, Array(chunk.suffix(2)) == crlf,
            let split = chunk.firstRange(of: [13, 10, 13, 10])
        else { throw Failure.partWithoutHeaders }
        let headerText = String(decoding: chunk[(chunk.startIndex + 2)..<split.lowerBound], as: UTF8.self)
        var headers: [String: String] = [:]
        for line in headerText.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let disposition = headers["content-disposition"] ?? ""
        guard let name = quoted("name", in: disposition) else { throw Failure.noName }
        return Part(
            name: name, fileName: quoted("filename", in: disposition), contentType: headers["content-type"],
            data: Array(chunk[split.upperBound..<(chunk.endIndex - 2)]))
    }

    /// `key="value"` in a `Content-Disposition`, with the HTML standard's escapes undone (a quoted value may hold `;`).
    private static func quoted(_ key: String, in header: String) -> String? {
        guard let start = header.range(of: "; \(key)=\""), let end = header[start.upperBound...].firstIndex(of: "\"") else { return nil }
        return header[start.upperBound..<end].replacingOccurrences(of: "%22", with: "\"").replacingOccurrences(of: "%0D", with: "\r")
            .replacingOccurrences(of: "%0A", with: "\n")
    }
}

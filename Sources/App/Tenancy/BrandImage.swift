import Crypto
import Foundation

/// An uploaded logo or favicon, checked: the type comes from the bytes (never from the file name or the browser's
/// claim), PNG and ICO are checked for their structure, and SVG is rebuilt from an allow-list of elements and
/// attributes, so no script, event handler, external reference or style sheet survives.
public struct BrandImage: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case png, svg, ico

        public var contentType: String {
            switch self {
            case .png: "image/png"
            case .svg: "image/svg+xml"
            case .ico: "image/x-icon"
            }
        }

        public init?(contentType: String) {
            switch contentType {
            case "image/png": self = .png
            case "image/svg+xml": self = .svg
            case "image/x-icon": self = .ico
            default: return nil
            }
        }
    }

    /// Why an upload is refused (each has an interface-text key).
    public enum Problem: String, Error, Sendable {
        case empty = "upload_error_empty"
        case tooLarge = "upload_error_too_large"
        case wrongType = "upload_error_type"
        case corrupt = "upload_error_corrupt"
        case unsafeSVG = "upload_error_svg"
    }

    public static let maximumBytes = 512 * 1024

    public let kind: Kind
    public let bytes: [UInt8]

    /// The SHA-256 of the stored bytes, in hex: the file's name in its URL.
    public var sha256: String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    public var url: String { "/brand-assets/\(sha256).\(kind.rawValue)" }

    /// Checks an upload. `allowed` lists the kinds this field takes (logos: PNG and SVG; favicons also ICO).
    public static func check(_ data: [UInt8], allowed: Set<Kind>) -> Result<BrandImage, Problem> {
        if data.isEmpty { return .failure(.empty) }
        if data.count > maximumBytes { return .failure(.tooLarge) }
        guard let kind = sniff(data), allowed.contains(kind) else { return .failure(.wrongType) }
        switch kind {
        case .png:
            return isWellFormedPNG(data) ? .success(BrandImage(kind: .png, bytes: data)) : .failure(.corrupt)
        case .ico:
            return isWellFormedICO(data) ? .success(BrandImage(kind: .ico, bytes: data)) : .failure(.corrupt)
        case .svg:
            guard let text = String(validating: data, as: UTF8.self) else { return .failure(.corrupt) }
            switch SVGSanitizer.sanitize(text) {
            case .success(let clean):
                let bytes = Array(clean.utf8)
                return bytes.count <= maximumBytes ? .success(BrandImage(kind: .svg, bytes: bytes)) : .failure(.tooLarge)
            case .failure(let problem): return .failure(problem)
            }
        }
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The type from the first bytes.
    static func sniff(_ data: [UInt8]) -> Kind? {
        if data.starts(with: pngSignature) { return .png }
        if data.starts(with: [0, 0, 1, 0]) { return .ico }
        // SVG: text whose first tag (after an optional BOM, XML declaration, comments and white space) is <svg.
        var text = String(decoding: data.prefix(4096), as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let trimmed = text.drop(while: { $0.isWhitespace })
        guard trimmed.hasPrefix("<") else { return nil }
        return trimmed.range(of: "<svg", options: .caseInsensitive) != nil ? .svg : nil
    }

    /// Signature, an IHDR chunk of sane dimensions first, chunks that fit, and IEND last.
    static func isWellFormedPNG(_ data: [UInt8]) -> Bool {
        func uint32(_ at: Int) -> Int { data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        guard data.count >= 8 + 25 + 12 else { return false }
        var offset = 8
        var first = true
        while offset + 12 <= data.count {
            let length = uint32(offset)
            let type = String(decoding: data[offset + 4..<offset + 8], as: UTF8.self)
            guard length <= data.count, offset + 12 + length <= data.count else { return false }
            if first {
                guard type == "IHDR", length == 13 else { return false }
                let width = uint32(offset + 8)
                let height = uint32(offset + 12)
                guard (1...8192).contains(width), (1...8192).contains(height) else { return false }
                first = false
            }
            offset += 12 + length
            if type == "IEND" { return offset == data.count || data[offset...].allSatisfy { $0 == 0 } }
        }
        return false
    }

    /// ICONDIR with 1–64 entries, each pointing at image data inside the file.
    static func isWellFormedICO(_ data: [UInt8]) -> Bool {
        func uint16(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 }
        func uint32(_ at: Int) -> Int { uint16(at) | uint16(at + 2) << 16 }
        guard data.count >= 6 + 16, uint16(0) == 0, uint16(2) == 1 else { return false }
        let count = uint16(4)
        guard (1...64).contains(count), data.count >= 6 + 16 * count else { return false }
        for index in 0..<count {
            let entry = 6 + 16 * index
            let size = uint32(entry + 8)
            let offset = uint32(entry + 12)
            guard size > 0, offset >= 6 + 16 * count, offset + size <= data.count else { return false }
        }
        return true
    }
}

/// Rebuilds an SVG document from an allow-list. Anything not on it is dropped (elements with their content); a
/// document type, entity, CDATA section or malformed markup refuses the whole file, since a sanitiser that guesses
/// at broken markup is how filters get bypassed.
enum SVGSanitizer {
    static let elements: Set<String> = [
        "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "defs",
        "lineargradient", "radialgradient", "stop", "clippath", "mask", "use", "symbol", "title", "desc", "pattern",
    ]
    static let textElements: Set<String> = ["title", "desc", "text", "tspan"]
    static let attributes: Set<String> = [
        "id", "class", "viewbox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx",
        "fy", "dx", "dy", "d", "points", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap",
        "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity",
        "transform", "gradientunits", "gradienttransform", "spreadmethod", "offset", "stop-color", "stop-opacity",
        "clip-path", "clip-rule", "mask", "maskunits", "patternunits", "font-family", "font-size", "font-weight",
        "font-style", "text-anchor", "dominant-baseline", "letter-spacing", "xmlns", "xmlns:xlink", "version",
        "preserveaspectratio", "href", "xlink:href", "role", "aria-label", "aria-hidden", "display", "visibility",
        "style",
    ]

    /// Deeper nesting or more `<use>` elements than a logo needs are refused.
    static let maximumDepth = 256
    static let maximumUses = 100

    private struct Open {
        let name: String
        let kept: Bool
    }

    static func sanitize(_ input: String) -> Result<String, BrandImage.Problem> {
        let chars = Array(input.unicodeScalars)
        var index = 0
        var output = ""
        var stack: [Open] = []
        var sawRoot = false
        // Open elements being dropped (with everything inside them): a count, so each tag costs O(1).
        var dropped = 0
        var keeping: Bool { dropped == 0 }
        var uses = 0

        func starts(with text: String, at position: Int) -> Bool {
            let scalars = Array(text.unicodeScalars)
            guard position + scalars.count <= chars.count else { return false }
            for (offset, scalar) in scalars.enumerated()
            where String(chars[position + offset]).lowercased() != String(scalar).lowercased() { return false }
            return true
        }
        func skip(past terminator: String) -> Bool {
            while index < chars.count {
                if starts(with: terminator, at: index) {
                    index += terminator.unicodeScalars.count
                    return true
                }
                index += 1
            }
            return false
        }
        func isNameChar(_ c: Unicode.Scalar) -> Bool {
            c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_" || c == ":" || c == "."
        }
        func readName() -> String {
            let start = index
            while index < chars.count, isNameChar(chars[index]) { index += 1 }
            return String(String.UnicodeScalarView(chars[start..<index]))
        }
        func skipSpace() { while index < chars.count, chars[index].properties.isWhitespace { index += 1 } }

        if chars.first == "\u{FEFF}" { index = 1 }
        while index < chars.count {
            if chars[index] != "<" {
                let start = index
                while index < chars.count, chars[index] != "<" { index += 1 }
                let raw = String(String.UnicodeScalarView(chars[start..<index]))
                guard let text = decodeEntities(raw) else { return .failure(.unsafeSVG) }
                if let top = stack.last, keeping, textElements.contains(top.name) { output += escape(text) }
                continue
            }
            if starts(with: "<!--", at: index) {
                guard skip(past: "-->") else { return .failure(.corrupt) }
            } else if starts(with: "<?", at: index) {
                guard skip(past: "?>") else { return .failure(.corrupt) }
            } else if starts(with: "<!", at: index) {
                return .failure(.unsafeSVG)  // DOCTYPE, ENTITY, CDATA
            } else if starts(with: "</", at: index) {
                index += 2
                let name = readName().lowercased()
                skipSpace()
                guard index < chars.count, chars[index] == ">", let open = stack.popLast(), open.name == name else {
                    return .failure(.corrupt)
                }
                index += 1
                if !open.kept { dropped -= 1 }
                if open.kept, keeping { output += "</\(open.name == "svg" ? "svg" : canonical(open.name))>" }
            } else {
                index += 1
                let name = readName().lowercased()
                guard !name.isEmpty else { return .failure(.corrupt) }
                if stack.isEmpty {
                    guard name == "svg", !sawRoot else { return .failure(.corrupt) }
                    sawRoot = true
                }
                var attributes: [(String, String)] = []
                var selfClosing = false
                while true {
                    skipSpace()
                    guard index < chars.count else { return .failure(.corrupt) }
                    if chars[index] == ">" {
                        index += 1
                        break
                    }
                    if chars[index] == "/" {
                        guard index + 1 < chars.count, chars[index + 1] == ">" else { return .failure(.corrupt) }
                        index += 2
                        selfClosing = true
                        break
                    }
                    let attribute = readName().lowercased()
                    guard !attribute.isEmpty else { return .failure(.corrupt) }
                    skipSpace()
                    guard index < chars.count, chars[index] == "=" else { return .failure(.corrupt) }
                    index += 1
                    skipSpace()
                    guard index < chars.count, chars[index] == "\"" || chars[index] == "'" else { return .failure(.corrupt) }
                    let quote = chars[index]
                    index += 1
                    let start = index
                    while index < chars.count, chars[index] != quote { index += 1 }
                    guard index < chars.count else { return .failure(.corrupt) }
                    let raw = String(String.UnicodeScalarView(chars[start..<index]))
                    index += 1
                    guard let value = decodeEntities(raw) else { return .failure(.unsafeSVG) }
                    attributes.append((attribute, value))
                }
                let kept = keeping && elements.contains(name)
                if name == "use" {
                    uses += 1
                    if uses > maximumUses { return .failure(.unsafeSVG) }  // "use" chains can freeze a browser
                }
                if kept {
                    output += "<" + canonical(name)
                    var hasNamespace = false
                    var hasXLink = false
                    for (attribute, value) in attributes {
                        if attribute == "xmlns" {
                            // The SVG namespace only, whatever was written.
                            if !hasNamespace { output += " xmlns=\"http://www.w3.org/2000/svg\"" }
                            hasNamespace = true
                            continue
                        }
                        guard isAllowed(attribute: attribute, value: value) else { continue }
                        if attribute == "xmlns:xlink" { hasXLink = true }
                        output += " \(canonical(attribute))=\"\(escape(value))\""
                    }
                    if name == "svg", stack.isEmpty {
                        if !hasNamespace { output += " xmlns=\"http://www.w3.org/2000/svg\"" }
                        // Always declared, so a kept `xlink:href` never makes the output ill-formed.
                        if !hasXLink {
                            output += " xmlns:xlink=\"http://www.w3.org/1999/xlink\""
                        }
                    }
                    output += selfClosing ? "/>" : ">"
                }
                if !selfClosing {
                    guard stack.count < maximumDepth else { return .failure(.unsafeSVG) }
                    stack.append(Open(name: name, kept: kept))
                    if !kept { dropped += 1 }
                }
                if selfClosing, stack.isEmpty { sawRoot = true }
            }
        }
        guard sawRoot, stack.isEmpty else { return .failure(.corrupt) }
        return .success(output)
    }

    /// Whether an attribute may stay: on the list, not an event handler, references only inside the document, and
    /// no CSS that can load or run anything.
    static func isAllowed(attribute: String, value: String) -> Bool {
        guard attributes.contains(attribute) else { return false }
        let lowered = value.lowercased().filter { !$0.isWhitespace }
        if attribute == "href" || attribute == "xlink:href" { return lowered.hasPrefix("#") }
        if attribute == "xmlns:xlink" { return value == "http://www.w3.org/1999/xlink" }
        for needle in [
            "javascript:", "expression(", "@import", "\\", "<", "data:", "behavior:", "-moz-binding", "image-set(", "image(",
            "src(", "cross-fade(", "element(", "//",
        ] where lowered.contains(needle) { return false }
        var rest = Substring(lowered)
        while let range = rest.range(of: "url(") {
            guard
                rest[range.upperBound...].hasPrefix("#") || rest[range.upperBound...].hasPrefix("'#")
                    || rest[range.upperBound...].hasPrefix("\"#")
            else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }

    /// The element and attribute names in SVG's own spelling (the checks compare lower case).
    static func canonical(_ name: String) -> String {
        let spelled = [
            "lineargradient": "linearGradient", "radialgradient": "radialGradient", "clippath": "clipPath",
            "viewbox": "viewBox", "gradientunits": "gradientUnits", "gradienttransform": "gradientTransform",
            "spreadmethod": "spreadMethod", "maskunits": "maskUnits", "patternunits": "patternUnits",
            "preserveaspectratio": "preserveAspectRatio",
        ]
        return spelled[name] ?? name
    }

    /// The five predefined entities and numeric references; anything else (a named entity from a DTD) is refused.
    static func decodeEntities(_ text: String) -> String? {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { return nil }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "amp": result += "&"
            case "lt": result += "<"
            case "gt": result += ">"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                let number: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    number = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    number = UInt32(entity.dropFirst())
                } else {
                    number = nil
                }
                guard let number, let scalar = Unicode.Scalar(number), number >= 0x20 || number == 0x9 || number == 0xA || number == 0xD
                else { return nil }
                result.unicodeScalars.append(scalar)
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}

import Foundation

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

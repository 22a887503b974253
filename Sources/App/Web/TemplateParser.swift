import Foundation

/// A Mustache template compiled once at start-up: its text cut into nodes, every name split into its path, every
/// variable told whether it escapes (from the `CONTENT_TYPE` pragma in force where it stands).
///
/// The subset Vitrina's templates use: variables (`{{a.b}}`, `{{.}}`, `{{{raw}}}`, `{{&raw}}`), sections and inverted
/// sections, comments, partials (`{{> name}}`), parents with a dynamic name (`{{<*layout}}…{{/*layout}}`) and with a
/// fixed one, blocks (`{{$name}}…{{/name}}`), and the `CONTENT_TYPE` pragma (`HTML`, the default, or `TEXT`). Tags alone
/// on their line leave no blank line behind, as the Mustache specification says.
struct CompiledTemplate: Sendable {
    let name: String
    let nodes: [TemplateNode]
}

/// A name in a template: its dotted parts, or the current value (`.`).
struct TemplatePath: Sendable, Hashable {
    let parts: [String]
    /// Looked up in the innermost value only (`.name`), not outwards.
    let anchored: Bool
    /// `.`, the value on top of the stack.
    var isCurrent: Bool { parts.isEmpty }

    init(_ text: Substring) {
        let trimmed = text.trimmedBlanks
        parts = trimmed == "." ? [] : trimmed.split(separator: ".").map(String.init)
        anchored = trimmed.count > 1 && trimmed.hasPrefix(".")
    }
}

indirect enum TemplateNode: Sendable {
    case text(String)
    case variable(TemplatePath, escaped: Bool)
    case section(TemplatePath, [TemplateNode])
    case inverted(TemplatePath, [TemplateNode])
    case partial(String)
    /// A parent template (named, or `*name`: the name is a value) rendered with these blocks overriding its own.
    /// `dynamic`: the path whose value names the parent.
    case parent(name: String, dynamic: TemplatePath?, blocks: [String: [TemplateNode]])
    /// A block with its default content.
    case block(String, [TemplateNode])
}

/// A template that cannot be compiled: where and why.
struct TemplateError: Error, CustomStringConvertible {
    let template: String
    let line: Int
    let message: String

    var description: String { "Template \(template) line \(line): \(message)" }
}

/// Compiles template text into nodes.
struct TemplateParser {
    let name: String
    private let text: String
    private var escaping = true

    init(name: String, text: String) {
        self.name = name
        self.text = text
    }

    /// A tag as the scanner found it.
    private struct Tag {
        let sigil: Character?
        let content: Substring
        let range: Range<String.Index>
        let triple: Bool
    }

    /// An open section, parent or block, and the nodes collected inside it.
    private struct Frame {
        enum Kind { case root, section, inverted, parent(dynamic: Bool), block }
        let kind: Kind
        let name: String
        let path: TemplatePath?
        var nodes: [TemplateNode] = []
        let line: Int
    }

    mutating func compile() throws -> CompiledTemplate {
        var stack = [Frame(kind: .root, name: "", path: nil, line: 1)]
        var index = text.startIndex
        var line = 1
        while index < text.endIndex {
            guard let open = find("{{", from: index) else {
                append(.text(String(text[index...])), to: &stack)
                break
            }
            let triple = text.utf8[open.upperBound...].first == UInt8(ascii: "{")
            guard let close = find(triple ? "}}}" : "}}", from: open.upperBound) else {
                throw TemplateError(template: name, line: line, message: "a tag is not closed")
            }
            var content = text[(triple ? text.index(after: open.upperBound) : open.upperBound)..<close.lowerBound]
            var sigil: Character?
            if let first = content.first, "#^/!>$<%&=".contains(first) {
                sigil = first
                content = content.dropFirst()
            }
            let tag = Tag(sigil: sigil, content: content, range: open.lowerBound..<close.upperBound, triple: triple)
            // A tag alone on its line (only blanks around it) takes the line with it.
            var before = text[index..<open.lowerBound]
            var after = close.upperBound
            if Self.isStandalone(sigil: sigil), let (kept, next) = standalone(before: before, tagEnd: close.upperBound) {
                before = kept
                after = next
            }
            if !before.isEmpty { append(.text(String(before)), to: &stack) }
            // The tag's own line for messages; then past what the tag took (its line end, when alone on it).
            line += Self.lineEnds(in: text.utf8[index..<open.lowerBound])
            try handle(tag, line: line, stack: &stack)
            line += Self.lineEnds(in: text.utf8[open.lowerBound..<after])
            index = after
        }
        guard stack.count == 1, let root = stack.first else {
            let open = stack[stack.count - 1]
            throw TemplateError(template: name, line: open.line, message: "\(open.name) is never closed")
        }
        return CompiledTemplate(name: name, nodes: root.nodes)
    }

    private static func isStandalone(sigil: Character?) -> Bool {
        guard let sigil else { return false }
        return "#^/!>$<%".contains(sigil)
    }

    /// The text before the tag without the line's leading blanks, and where to go on after the line's end, when the
    /// tag stands alone on its line.
    private func standalone(before: Substring, tagEnd: String.Index) -> (Substring, String.Index)? {
        // Bytes, not characters: "\r\n" is one `Character`, and the scan runs over every text between tags.
        let bytes = text.utf8
        let lineStart = before.utf8.lastIndex(of: 0x0A).map { bytes.index(after: $0) } ?? before.startIndex
        guard bytes[lineStart..<before.endIndex].allSatisfy(Self.isBlank) else { return nil }
        // The line must start at the text's start or after a newline.
        if lineStart == before.startIndex, before.startIndex != text.startIndex, bytes[bytes.index(before: before.startIndex)] != 0x0A {
            return nil
        }
        var end = tagEnd
        while end < bytes.endIndex, Self.isBlank(bytes[end]) { end = bytes.index(after: end) }
        if end == bytes.endIndex { return (before[..<lineStart], end) }
        if bytes[end] == 0x0A { return (before[..<lineStart], bytes.index(after: end)) }
        if bytes[end] == 0x0D, bytes.index(after: end) < bytes.endIndex, bytes[bytes.index(after: end)] == 0x0A {
            return (before[..<lineStart], bytes.index(end, offsetBy: 2))
        }
        return nil
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private static func lineEnds(in bytes: Substring.UTF8View) -> Int { bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } }

    /// Where `needle` (ASCII) next occurs at or after `start`.
    private func find(_ needle: StaticString, from start: String.Index) -> Range<String.Index>? {
        let bytes = text.utf8
        let first = needle.utf8Start.pointee
        let count = needle.utf8CodeUnitCount
        var index = start
        while let candidate = bytes[index...].firstIndex(of: first) {
            guard let end = bytes.index(candidate, offsetBy: count, limitedBy: bytes.endIndex) else { return nil }
            if bytes[candidate..<end].elementsEqual(UnsafeBufferPointer(start: needle.utf8Start, count: count)) { return candidate..<end }
            index = bytes.index(after: candidate)
        }
        return nil
    }

    private mutating func handle(_ tag: Tag, line: Int, stack: inout [Frame]) throws {
        let content = String(tag.content.trimmedBlanks)
        guard !content.isEmpty || tag.sigil == "!" else {
            throw TemplateError(template: name, line: line, message: "an empty tag")
        }
        switch tag.sigil {
        case nil:
            append(.variable(TemplatePath(tag.content), escaped: escaping && !tag.triple), to: &stack)
        case "&":
            append(.variable(TemplatePath(tag.content), escaped: false), to: &stack)
        case "!":
            break
        case "%":
            let parts = content.split(separator: ":", maxSplits: 1).map { String($0.trimmedBlanks) }
            guard parts.count == 2, parts[0] == "CONTENT_TYPE" else {
                throw TemplateError(template: name, line: line, message: "unknown pragma \(content)")
            }
            switch parts[1] {
            case "HTML": escaping = true
            case "TEXT": escaping = false
            default: throw TemplateError(template: name, line: line, message: "unknown content type \(parts[1])")
            }
        case ">":
            append(.partial(content), to: &stack)
        case "#":
            stack.append(Frame(kind: .section, name: content, path: TemplatePath(tag.content), line: line))
        case "^":
            stack.append(Frame(kind: .inverted, name: content, path: TemplatePath(tag.content), line: line))
        case "$":
            stack.append(Frame(kind: .block, name: content, path: nil, line: line))
        case "<":
            let dynamic = content.hasPrefix("*")
            stack.append(Frame(kind: .parent(dynamic: dynamic), name: content, path: nil, line: line))
        case "/":
            guard stack.count > 1, let frame = stack.popLast(), frame.name == content else {
                throw TemplateError(template: name, line: line, message: "{{/\(content)}} closes nothing open")
            }
            switch frame.kind {
            case .root: break
            case .section: append(.section(frame.path!, frame.nodes), to: &stack)
            case .inverted: append(.inverted(frame.path!, frame.nodes), to: &stack)
            case .block: append(.block(frame.name, frame.nodes), to: &stack)
            case .parent(let dynamic):
                // Inside a parent tag only block definitions count: they override the parent's blocks.
                var blocks: [String: [TemplateNode]] = [:]
                for node in frame.nodes { if case .block(let name, let nodes) = node { blocks[name] = nodes } }
                let name = dynamic ? String(frame.name.dropFirst()) : frame.name
                append(.parent(name: name, dynamic: dynamic ? TemplatePath(name[...]) : nil, blocks: blocks), to: &stack)
            }
        default:
            throw TemplateError(template: name, line: line, message: "unknown tag {{\(tag.sigil.map(String.init) ?? "")\(content)}}")
        }
    }

    private func append(_ node: TemplateNode, to stack: inout [Frame]) {
        stack[stack.count - 1].nodes.append(node)
    }
}

extension Substring {
    /// Without the spaces and tabs at either end.
    var trimmedBlanks: Substring {
        let start = firstIndex { $0 != " " && $0 != "\t" } ?? endIndex
        let end = lastIndex { $0 != " " && $0 != "\t" }.map(index(after:)) ?? start
        return self[start..<end]
    }
}

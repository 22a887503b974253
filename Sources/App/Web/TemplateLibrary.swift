import Foundation

/// A value templates look into by name, answering without reflection (page models on hot pages conform; anything else
/// is read with `Mirror`, which costs a walk over every stored property on every look-up).
protocol TemplateParent {
    /// The value under `name`, `nil` when there is none. Taken as it is: return an optional property as itself (Swift
    /// makes an empty one `nil`), never an optional wrapped in an `Any`.
    func child(named name: String) -> Any?
    /// `child(named:)` when that is itself a `TemplateParent`, for the middle of a dotted name. The default casts;
    /// containers on every page (the frame, the brand) answer without a dynamic cast.
    func parent(named name: String) -> (any TemplateParent)?
}

extension TemplateParent {
    func parent(named name: String) -> (any TemplateParent)? { child(named: name) as? any TemplateParent }
}

extension Dictionary: TemplateParent where Key == String {
    func child(named name: String) -> Any? { self[name] }
}

/// A list a section repeats over, element by element, without copying it into `[Any]`.
protocol TemplateSequence {
    var isEmptyTemplateSequence: Bool { get }
    func forEachTemplateElement(_ body: (Any) -> Void)
}

extension Array: TemplateSequence {
    var isEmptyTemplateSequence: Bool { isEmpty }
    func forEachTemplateElement(_ body: (Any) -> Void) { for element in self { body(element) } }
}

extension ArraySlice: TemplateSequence {
    var isEmptyTemplateSequence: Bool { isEmpty }
    func forEachTemplateElement(_ body: (Any) -> Void) { for element in self { body(element) } }
}

extension Set: TemplateSequence {
    var isEmptyTemplateSequence: Bool { isEmpty }
    func forEachTemplateElement(_ body: (Any) -> Void) { for element in self { body(element) } }
}

extension ReversedCollection: TemplateSequence {
    var isEmptyTemplateSequence: Bool { isEmpty }
    func forEachTemplateElement(_ body: (Any) -> Void) { for element in self { body(element) } }
}

/// An optional of any type, to see through one held in an `Any`.
private protocol AnyOptional {
    var wrapped: Any? { get }
}

extension Optional: AnyOptional {
    fileprivate var wrapped: Any? { self.map { $0 as Any } }
}

/// Every template under `Templates/`, compiled at start-up and rendered from memory.
///
/// Rendering follows Mustache: a name's first part is looked up from the innermost section's value outwards, its other
/// parts inside what was found; a section repeats over a list, shows once for `true` or any other present value (which
/// it makes the innermost), and not at all for `nil`, `false` or an empty list; an inverted section shows exactly when a
/// section would not. Variables are HTML-escaped unless the template says `{{% CONTENT_TYPE: TEXT}}` or uses `{{{…}}}`.
/// A parent's blocks are replaced by those its child defines, the child's winning over any parent between them.
/// Partials are not re-indented.
struct TemplateLibrary: Sendable {
    private let templates: [String: CompiledTemplate]

    /// Templates as name → text (names as in `{{> name}}`).
    init(templates texts: [String: String]) throws {
        var templates: [String: CompiledTemplate] = [:]
        for (name, text) in texts {
            var parser = TemplateParser(name: name, text: text)
            templates[name] = try parser.compile()
        }
        self.templates = templates
    }

    /// Every `*.mustache` file under `directory`, named by its path inside it without the extension.
    init(directory: String) throws {
        var texts: [String: String] = [:]
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        let files = FileManager.default.enumerator(atPath: root)
        while let relative = files?.nextObject() as? String {
            guard relative.hasSuffix(".mustache") else { continue }
            let text = try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
            texts[String(relative.dropLast(".mustache".count))] = text
        }
        try self.init(templates: texts)
    }

    func template(named name: String) -> CompiledTemplate? { templates[name] }

    /// `name` rendered with `value` as the outermost context; nil when there is no such template.
    func render(_ value: Any, withTemplate name: String) -> String? {
        guard let template = templates[name] else { return nil }
        var state = RenderState(library: self, root: value)
        state.render(template.nodes)
        return state.output
    }

    /// `value` without the optionals around it (`nil` when one of them is empty): what `Mirror` gives for an optional
    /// property.
    static func unwrapped(_ value: Any?) -> Any? {
        guard let value else { return nil }
        // Most values are text: no protocol look-up for them.
        if value is String { return value }
        guard let optional = value as? any AnyOptional else { return value }
        return unwrapped(optional.wrapped)
    }
}

/// One rendering: the output so far, the section values in force and the parent blocks overridden.
private struct RenderState {
    let library: TemplateLibrary
    /// The section values in force, innermost last, each with its `TemplateParent` form found once when pushed (the
    /// look-ups that climb the stack ask every entry).
    var stack: [Entry]

    /// A value, and the same value as a `TemplateParent` when it is one and that is known. (A struct, not a tuple:
    /// a tuple of existentials is copied through the runtime's generic value witnesses.)
    struct Entry {
        let value: Any
        let parent: (any TemplateParent)?
    }
    var output = ""
    var overrides: [String: [TemplateNode]] = [:]
    /// How many partials and parents deep the rendering is, and how many it has expanded in all: a template that
    /// includes itself (once or twice per level) stops there instead of exhausting the stack or the processor.
    var depth = 0
    var expansions = 0
    static let maximumDepth = 32
    static let maximumExpansions = 10_000

    init(library: TemplateLibrary, root: Any) {
        self.library = library
        stack = [Self.entry(root)]
        stack.reserveCapacity(8)
        output.reserveCapacity(16 * 1024)
    }

    mutating func render(_ nodes: [TemplateNode]) {
        for node in nodes {
            switch node {
            case .text(let text):
                output.append(text)
            case .variable(let path, let escaped):
                guard let value = resolve(path) else { continue }
                let text =
                    switch value {
                    case let string as String: string
                    case let number as Int: String(number)
                    default: String(describing: value)
                    }
                if escaped { Self.appendEscaped(text, to: &output) } else { output.append(text) }
            case .section(let path, let nodes):
                switch resolve(path) {
                case nil:
                    continue
                case let flag as Bool:
                    if flag { render(nodes) }
                case let list as any TemplateSequence:
                    list.forEachTemplateElement { element in
                        stack.append(Self.entry(element))
                        render(nodes)
                        stack.removeLast()
                    }
                case let value?:
                    stack.append(Self.entry(value))
                    render(nodes)
                    stack.removeLast()
                }
            case .inverted(let path, let nodes):
                let shown: Bool =
                    switch resolve(path) {
                    case nil: true
                    case let flag as Bool: !flag
                    case let list as any TemplateSequence: list.isEmptyTemplateSequence
                    default: false
                    }
                if shown { render(nodes) }
            case .partial(let name):
                guard depth < Self.maximumDepth, expansions < Self.maximumExpansions, let template = library.template(named: name) else {
                    continue
                }
                depth += 1
                expansions += 1
                render(template.nodes)
                depth -= 1
            case .parent(let name, let dynamic, let blocks):
                let templateName = dynamic.map { resolve($0) as? String } ?? name
                guard depth < Self.maximumDepth, expansions < Self.maximumExpansions, let templateName,
                    let template = library.template(named: templateName)
                else { continue }
                expansions += 1
                let outer = overrides
                overrides = outer.merging(blocks) { childmost, _ in childmost }
                depth += 1
                render(template.nodes)
                depth -= 1
                overrides = outer
            case .block(let name, let defaults):
                render(overrides[name] ?? defaults)
            }
        }
    }

    /// The value a name stands for: its first part from the innermost value outwards, the rest inside it.
    func resolve(_ path: TemplatePath) -> Any? {
        guard let first = path.parts.first else { return stack.last?.value }
        let count = path.parts.count
        var found: Entry?
        var level = stack.count - 1
        while found == nil, level >= 0 {
            found = Self.lookUp(first, in: stack[level], inTheMiddle: count > 1)
            level = path.anchored ? -1 : level - 1
        }
        guard var current = found else { return nil }
        var index = 1
        while index < count {
            guard let next = Self.lookUp(path.parts[index], in: current, inTheMiddle: index < count - 1) else { return nil }
            current = next
            index += 1
        }
        return current.value
    }

    /// `name` inside `entry`; in the middle of a dotted name, asked as a parent first (no cast for the containers
    /// that answer `parent(named:)` themselves).
    static func lookUp(_ name: String, in entry: borrowing Entry, inTheMiddle: Bool) -> Entry? {
        guard let parent = entry.parent else { return child(name, of: entry.value).map { Entry(value: $0, parent: nil) } }
        if inTheMiddle, let inner = parent.parent(named: name) { return Entry(value: inner, parent: inner) }
        return parent.child(named: name).map { Entry(value: $0, parent: nil) }
    }

    static func entry(_ value: Any) -> Entry {
        Entry(value: value, parent: value as? any TemplateParent)
    }

    static func child(_ name: String, of object: Any) -> Any? {
        if let parent = object as? any TemplateParent { return parent.child(named: name) }
        switch object {
        case is String, is Bool, is Int, is Double, is any TemplateSequence: return nil
        default: break
        }
        guard let value = Mirror(reflecting: object).children.first(where: { $0.label == name })?.value else { return nil }
        return TemplateLibrary.unwrapped(value)
    }

    /// Appends `text` HTML-escaped: runs without `<>&"'` are copied whole.
    static func appendEscaped(_ text: String, to output: inout String) {
        // Most text has nothing to escape: one scan over the bytes, then one copy.
        let clean = text.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.contains { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }
        }
        if clean == true {
            output.append(text)
            return
        }
        let utf8 = text.utf8
        var runStart = utf8.startIndex
        var index = runStart
        while index != utf8.endIndex {
            let replacement: String? =
                switch utf8[index] {
                case 0x3C: "&lt;"
                case 0x3E: "&gt;"
                case 0x26: "&amp;"
                case 0x22: "&quot;"
                case 0x27: "&#39;"
                default: nil
                }
            if let replacement {
                if runStart != index { output.append(contentsOf: text[runStart..<index]) }
                output.append(replacement)
                runStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        if runStart == utf8.startIndex {
            output.append(text)
        } else if runStart != utf8.endIndex {
            output.append(contentsOf: text[runStart..<utf8.endIndex])
        }
    }
}

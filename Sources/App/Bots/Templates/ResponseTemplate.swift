import Foundation

/// A named reply the shop writes once: Mustache text with the variables `ResponseTemplate.variables` and quick-reply
/// buttons. Used by rules, the greeting, the fallback and operators.
public struct ResponseTemplate: Sendable, Equatable, Codable {
    public var id: Int?
    public var name: String
    public var text: String
    /// Quick replies shown under the message.
    public var buttons: [String]

    public init(id: Int? = nil, name: String, text: String, buttons: [String] = []) {
        self.id = id
        self.name = name
        self.text = text
        self.buttons = buttons
    }

    /// The variables a template may use.
    public static let variables = ["contact.name", "shop.name", "bot.name", "conversation.channel"]

    /// Checks a template's text: a broken tag, an unknown variable or a partial is refused with a sentence.
    public static func check(_ text: String) throws {
        _ = try compile(text, name: "template")
    }

    static func compile(_ text: String, name: String) throws -> CompiledTemplate {
        var parser = TemplateParser(name: name, text: "{{%CONTENT_TYPE:TEXT}}" + text)
        let template: CompiledTemplate
        do {
            template = try parser.compile()
        } catch let error as TemplateError {
            throw BotSettingsError("The template has a broken tag on line \(error.line): \(error.message)")
        }
        try checkNodes(template.nodes)
        return template
    }

    private static func checkNodes(_ nodes: [TemplateNode]) throws {
        for node in nodes {
            switch node {
            case .text: continue
            case .variable(let path, _):
                try checkPath(path)
            case .section(let path, let inner), .inverted(let path, let inner):
                try checkPath(path)
                try checkNodes(inner)
            case .partial, .parent, .block:
                throw BotSettingsError("Templates cannot include other templates; use the variables \(list) only.")
            }
        }
    }

    private static func checkPath(_ path: TemplatePath) throws {
        let name = path.parts.joined(separator: ".")
        // `{{.}}` inside a section is the section's own value.
        guard path.isCurrent || variables.contains(name) else {
            throw BotSettingsError("“{{\(name)}}” is not a variable templates know; use \(list).")
        }
    }

    private static var list: String { variables.map { "{{\($0)}}" }.joined(separator: ", ") }
}

/// What a template is rendered with; absent values leave their sections out.
public struct TemplateValues: Sendable, Equatable {
    public var contactName: String?
    public var shopName: String
    public var botName: String
    public var channel: ConversationChannel

    public init(contactName: String? = nil, shopName: String, botName: String, channel: ConversationChannel) {
        self.contactName = contactName
        self.shopName = shopName
        self.botName = botName
        self.channel = channel
    }

    var context: [String: Any] {
        var contact: [String: Any] = [:]
        if let contactName, !contactName.isEmpty { contact["name"] = contactName }
        return [
            "contact": contact, "shop": ["name": shopName], "bot": ["name": botName],
            "conversation": ["channel": channel.rawValue],
        ]
    }
}

/// A shop's templates, compiled once per snapshot, plus any one-off text (greetings, fallbacks) rendered with the
/// same rules.
public struct ResponseTemplates: Sendable {
    let byName: [String: ResponseTemplate]
    private let library: TemplateLibrary?

    public init(_ templates: [ResponseTemplate]) {
        byName = Dictionary(templates.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Texts were checked on save; one that no longer compiles (written around the checks) renders as typed.
        var texts: [String: String] = [:]
        for template in templates where (try? ResponseTemplate.compile(template.text, name: template.name)) != nil {
            texts[template.name] = "{{%CONTENT_TYPE:TEXT}}" + template.text
        }
        library = try? TemplateLibrary(templates: texts)
    }

    public func template(_ name: String) -> ResponseTemplate? { byName[name] }

    /// The named template rendered, or nil when there is none.
    public func render(_ name: String, _ values: TemplateValues) -> String? {
        guard byName[name] != nil else { return nil }
        return library?.render(values.context, withTemplate: name)?.trimmingCharacters(in: .whitespacesAndNewlines)
            ?? byName[name]?.text
    }

    /// One-off text (a greeting, a fallback) rendered like a template; text that does not compile is sent as typed.
    public static func render(text: String, _ values: TemplateValues) -> String {
        guard (try? ResponseTemplate.compile(text, name: "text")) != nil,
            let library = try? TemplateLibrary(templates: ["text": "{{%CONTENT_TYPE:TEXT}}" + text]),
            let rendered = library.render(values.context, withTemplate: "text")
        else { return text }
        return rendered.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

import Foundation

/// "When the shopper says this, do that": a trigger, an action, an order and an on/off switch.
public struct Rule: Sendable, Equatable {
    public var id: Int?
    public var name: String
    public var position: Int
    public var enabled: Bool
    public var trigger: Trigger
    public var action: Action

    public init(id: Int? = nil, name: String, position: Int = 0, enabled: Bool = true, trigger: Trigger, action: Action) {
        self.id = id
        self.name = name
        self.position = position
        self.enabled = enabled
        self.trigger = trigger
        self.action = action
    }

    public enum Trigger: Sendable, Equatable {
        /// Any of these words or phrases (normalised; a keyword of five letters or more also matches its longer
        /// forms: "возврат" matches "возврата").
        case keywords([String])
        /// An ICU regular expression over the message as typed, stopped after `RuleMatcher.regexTimeLimit`.
        case regex(String)
        /// Phrases like these (most of their words in the message, and most of the message's in one of them).
        case examples([String])
    }

    public enum Action: Sendable, Equatable {
        /// Reply with a response template.
        case reply(template: String)
        /// Answer with a FAQ entry or a help article.
        case show(slug: String)
        case handOff
        /// Set a contact field, then let the pipeline go on.
        case setField(String, String)
    }

    /// Checks what the database cannot: a regular expression that compiles, triggers that are not empty.
    public static func check(_ trigger: Trigger) throws {
        switch trigger {
        case .keywords(let words):
            guard words.contains(where: { !NormalizedText($0).isEmpty }) else {
                throw BotSettingsError("A keywords trigger needs at least one word.")
            }
        case .examples(let phrases):
            guard phrases.contains(where: { !NormalizedText($0).isEmpty }) else {
                throw BotSettingsError("An examples trigger needs at least one phrase.")
            }
        case .regex(let pattern):
            guard !pattern.isEmpty, pattern.databaseLength <= 500 else {
                throw BotSettingsError("A regular expression must have 1 to 500 characters.")
            }
            do {
                _ = try NSRegularExpression(pattern: pattern)
            } catch {
                throw BotSettingsError("“\(pattern)” is not a regular expression this engine (ICU) reads.")
            }
        }
    }
}

// MARK: Storage shape

extension Rule.Trigger {
    /// `{"keywords": [...]}`, `{"regex": "..."}` or `{"examples": [...]}`.
    var json: String {
        let object: [String: Any] =
            switch self {
            case .keywords(let words): ["keywords": words]
            case .regex(let pattern): ["regex": pattern]
            case .examples(let phrases): ["examples": phrases]
            }
        return BotJSON.string(object)
    }

    init?(json: String) {
        guard let object = BotJSON.object(json) else { return nil }
        if let words = object["keywords"] as? [String] {
            self = .keywords(words)
        } else if let pattern = object["regex"] as? String {
            self = .regex(pattern)
        } else if let phrases = object["examples"] as? [String] {
            self = .examples(phrases)
        } else {
            return nil
        }
    }
}

extension Rule.Action {
    var json: String {
        let object: [String: Any] =
            switch self {
            case .reply(let template): ["reply": template]
            case .show(let slug): ["show": slug]
            case .handOff: ["handoff": true]
            case .setField(let field, let value): ["set": [field: value]]
            }
        return BotJSON.string(object)
    }

    init?(json: String) {
        guard let object = BotJSON.object(json) else { return nil }
        if let template = object["reply"] as? String {
            self = .reply(template: template)
        } else if let slug = object["show"] as? String {
            self = .show(slug: slug)
        } else if object["handoff"] as? Bool == true {
            self = .handOff
        } else if let set = object["set"] as? [String: String], let (field, value) = set.first {
            self = .setField(field, value)
        } else {
            return nil
        }
    }
}

/// JSON objects in and out of jsonb columns.
enum BotJSON {
    static func string(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func object(_ json: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }
}

/// Matches rules against a message, in order; the first enabled rule whose trigger matches wins. Pure.
public struct RuleMatcher: Sendable {
    /// How long one regular expression may run on one message.
    public static let regexTimeLimit: Duration = .milliseconds(50)

    struct Compiled: @unchecked Sendable {
        // NSRegularExpression is immutable once made and documented as safe to use from several threads.
        let rule: Rule
        let keywords: [NormalizedText]
        let regex: NSRegularExpression?
        /// Each example's stems (from PostgreSQL, read with the snapshot).
        let examples: [Set<String>]
    }

    let rules: [Compiled]

    /// `exampleStems[name]`: each example phrase's stems, in order.
    public init(_ rules: [Rule], exampleStems: [String: [Set<String>]] = [:]) {
        self.rules = rules.filter(\.enabled).sorted { ($0.position, $0.name) < ($1.position, $1.name) }.map { rule in
            switch rule.trigger {
            case .keywords(let words):
                Compiled(rule: rule, keywords: words.map(NormalizedText.init).filter { !$0.isEmpty }, regex: nil, examples: [])
            case .regex(let pattern):
                Compiled(rule: rule, keywords: [], regex: try? NSRegularExpression(pattern: pattern), examples: [])
            case .examples:
                Compiled(rule: rule, keywords: [], regex: nil, examples: exampleStems[rule.name] ?? [])
            }
        }
    }

    /// The first rule that matches, if any.
    public func match(_ message: NormalizedText, stems: Set<String>) -> Rule? {
        rules.first { matches($0, message, stems: stems) }?.rule
    }

    func matches(_ compiled: Compiled, _ message: NormalizedText, stems: Set<String>) -> Bool {
        switch compiled.rule.trigger {
        case .keywords:
            return compiled.keywords.contains { Self.contains(message, $0) }
        case .regex:
            guard let regex = compiled.regex else { return false }
            return Self.firstMatch(regex, in: String(message.original.prefix(4000)), limit: Self.regexTimeLimit)
        case .examples:
            guard !stems.isEmpty else { return false }
            return compiled.examples.contains { example in
                guard !example.isEmpty else { return false }
                let shared = Double(example.intersection(stems).count)
                return shared / Double(example.count) >= 0.75 && shared / Double(stems.count) >= 0.6
            }
        }
    }

    /// Whether `keyword`'s words stand in the message in a row (a long last word also as a prefix).
    static func contains(_ message: NormalizedText, _ keyword: NormalizedText) -> Bool {
        let words = message.words
        let wanted = keyword.words
        guard !wanted.isEmpty, words.count >= wanted.count else { return false }
        for start in 0...(words.count - wanted.count) {
            var all = true
            for (offset, word) in wanted.enumerated() {
                let candidate = words[start + offset]
                let isLast = offset == wanted.count - 1
                if candidate == word || (isLast && word.count >= 5 && candidate.hasPrefix(word)) { continue }
                all = false
                break
            }
            if all { return true }
        }
        return false
    }

    /// Whether the expression matches somewhere in `text` within `limit`; a match that runs out of time is no match.
    static func firstMatch(_ regex: NSRegularExpression, in text: String, limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        var found = false
        regex.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(text.startIndex..., in: text)) { result, _, stop in
            if result != nil {
                found = true
                stop.pointee = true
            } else if ContinuousClock.now > deadline {
                stop.pointee = true
            }
        }
        return found
    }
}

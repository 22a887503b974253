import Foundation
import Hummingbird

/// `/api/v1/rules`: "when the shopper says this, do that", by name, for a shop's key. `when` is one of
/// `{"keywords": [...]}`, `{"regex": "..."}`, `{"examples": [...]}`; `then` one of `{"reply": template}`,
/// `{"show": slug}`, `{"handoff": true}`, `{"set": {field: value}}`.
struct RulesAPIController: Sendable {
    let config: BotConfigStore
    let access: BotAPIAccess
    let auditLog: AuditLog

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("rules", use: list)
        group.post("rules", use: create)
        group.get("rules/:name", use: show)
        group.put("rules/:name", use: update)
        group.delete("rules/:name", use: delete)
    }

    static let noSuchRule = APIError.notFound("There is no such rule.")

    /// Rules in the order they are tried (position, then name), a page at a time.
    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let page = try PageRequest(request)
        let rules = try await access.read(tenant, context) { try await config.rules(on: $0) }
        return APIJSON.response(page.page(all: rules, key: Self.sortKey, item: RuleJSON.init))
    }

    /// Position then name, as a string that sorts the same way (positions are 0…100000).
    static func sortKey(_ rule: Rule) -> String { String(format: "%06d", max(0, rule.position)) + "/" + rule.name }

    @Sendable func show(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let name = context.parameters.get("name") ?? ""
        guard let rule = try await access.read(tenant, context, { try await config.rules(on: $0).first { $0.name == name } }) else {
            throw Self.noSuchRule
        }
        return APIJSON.response(RuleJSON(rule))
    }

    /// Adds a rule (by default after the others).
    @Sendable func create(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let body = try await APIJSON.decode(RuleBody.self, from: request)
        let created = try await access.write(tenant, context, field: "when") { connection -> Rule? in
            let rules = try await config.rules(on: connection)
            let templates = try await config.templates(on: connection).map(\.name)
            let position = (rules.map(\.position).max() ?? 0) + 1
            let rule = try body.rule(
                from: Rule(name: "", position: min(position, 100_000), trigger: .keywords([]), action: .handOff), isNew: true,
                templates: templates)
            if rules.contains(where: { $0.name == rule.name }) {
                throw APIError.conflict(field: "name", "Another rule has this name.")
            }
            try await config.upsert(rule, on: connection)
            try await auditLog.record(context.audit("rule.created", target: rule.name), on: connection)
            return try await config.rules(on: connection).first { $0.name == rule.name }
        }
        guard let created else { throw Self.noSuchRule }
        var response = APIJSON.response(RuleJSON(created), status: .created)
        response.headers[.location] = "/api/v1/rules/\(created.name)"
        return response
    }

    /// Changes the fields given; the others keep their values. A rule keeps its name.
    @Sendable func update(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let name = context.parameters.get("name") ?? ""
        let body = try await APIJSON.decode(RuleBody.self, from: request)
        if let given = body.name, given.apiText != name {
            throw APIError.validation([FieldProblem(field: "name", message: "A rule's name cannot change; create another one.")])
        }
        let updated = try await access.write(tenant, context, field: "when") { connection -> Rule? in
            guard let current = try await config.rules(on: connection).first(where: { $0.name == name }) else { return nil }
            let rule = try body.rule(from: current, isNew: false, templates: try await config.templates(on: connection).map(\.name))
            if try await config.upsert(rule, on: connection) != .unchanged {
                try await auditLog.record(context.audit("rule.updated", target: name), on: connection)
            }
            return try await config.rules(on: connection).first { $0.name == name }
        }
        guard let updated else { throw Self.noSuchRule }
        return APIJSON.response(RuleJSON(updated))
    }

    @Sendable func delete(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let name = context.parameters.get("name") ?? ""
        let deleted = try await access.write(tenant, context, field: "name") { connection -> Bool in
            guard try await config.deleteRule(name: name, on: connection) else { return false }
            try await auditLog.record(context.audit("rule.deleted", target: name), on: connection)
            return true
        }
        guard deleted else { throw Self.noSuchRule }
        return APIJSON.noContent()
    }
}

/// A rule as the API shows it.
struct RuleJSON: Encodable {
    let rule: Rule

    init(_ rule: Rule) { self.rule = rule }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(rule.name, forKey: JSONKey("name"))
        try container.encode(rule.position, forKey: JSONKey("position"))
        try container.encode(rule.enabled, forKey: JSONKey("enabled"))
        var when = container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("when"))
        switch rule.trigger {
        case .keywords(let words): try when.encode(words, forKey: JSONKey("keywords"))
        case .regex(let pattern): try when.encode(pattern, forKey: JSONKey("regex"))
        case .examples(let phrases): try when.encode(phrases, forKey: JSONKey("examples"))
        }
        var then = container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("then"))
        switch rule.action {
        case .reply(let template): try then.encode(template, forKey: JSONKey("reply"))
        case .show(let slug): try then.encode(slug, forKey: JSONKey("show"))
        case .handOff: try then.encode(true, forKey: JSONKey("handoff"))
        case .setField(let field, let value): try then.encode([field: value], forKey: JSONKey("set"))
        }
    }
}

/// A rule's body: any of name, position, enabled, when, then.
struct RuleBody: Decodable, Sendable {
    var name: String?
    var position: Int?
    var enabled: Bool?
    var keywords, examples: [String]?
    var regex: String?
    var reply, show: String?
    var handoff: Bool?
    var set: [String: String]?
    var hasWhen = false
    var hasThen = false
    var unknown: [String] = []
    /// How many triggers and actions were given (exactly one of each is allowed).
    var triggers = 0
    var actions = 0

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        unknown = container.unknown(["name", "position", "enabled", "when", "then"])
        name = try container.optional(String.self, "name")
        position = try container.optional(Int.self, "position")
        enabled = try container.optional(Bool.self, "enabled")
        if container.contains(JSONKey("when")) {
            hasWhen = true
            let when = try container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("when"))
            unknown += when.unknown(["keywords", "regex", "examples"], prefix: "when.")
            keywords = try when.optional([String].self, "keywords")
            regex = try when.optional(String.self, "regex")
            examples = try when.optional([String].self, "examples")
            triggers = [keywords != nil, regex != nil, examples != nil].filter { $0 }.count
        }
        if container.contains(JSONKey("then")) {
            hasThen = true
            let then = try container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("then"))
            unknown += then.unknown(["reply", "show", "handoff", "set"], prefix: "then.")
            reply = try then.optional(String.self, "reply")
            show = try then.optional(String.self, "show")
            handoff = try then.optional(Bool.self, "handoff")
            set = try then.optional([String: String].self, "set")
            actions = [reply != nil, show != nil, handoff == true, set != nil].filter { $0 }.count
        }
    }

    /// `rule` with the fields given, checked; a new rule needs a name, `when` and `then`.
    func rule(from rule: Rule, isNew: Bool, templates: [String]) throws -> Rule {
        try unknown.refuseUnknown()
        var rule = rule
        var problems: [FieldProblem] = []
        if isNew {
            rule.name = name?.apiText ?? ""
            if !Slug.isValid(rule.name) || rule.name.count > 40 {
                problems.append(
                    FieldProblem(field: "name", message: "Use 2–40 lower-case letters, digits and hyphens, starting with a letter."))
            }
            if !hasWhen { problems.append(FieldProblem(field: "when", message: "Required.")) }
            if !hasThen { problems.append(FieldProblem(field: "then", message: "Required.")) }
        }
        if let position {
            if (0...100_000).contains(position) {
                rule.position = position
            } else {
                problems.append(FieldProblem(field: "position", message: "Must be a whole number from 0 to 100000."))
            }
        }
        if let enabled { rule.enabled = enabled }
        if hasWhen {
            if triggers != 1 {
                problems.append(FieldProblem(field: "when", message: "Give exactly one of keywords, regex or examples."))
            } else {
                let trigger: Rule.Trigger =
                    if let keywords { .keywords(keywords.map(\.apiText)) } else if let regex { .regex(regex) } else {
                        .examples((examples ?? []).map(\.apiText))
                    }
                // A pattern is taken as written: a control character in it (NUL cannot be stored) is refused, not dropped.
                if let regex, regex.unicodeScalars.contains(where: \.isASCIIControl) {
                    problems.append(FieldProblem(field: "when.regex", message: "No control characters; write \\t or \\n for them."))
                }
                do {
                    try Rule.check(trigger)
                    rule.trigger = trigger
                } catch {
                    problems.append(FieldProblem(field: "when", message: BotAPIAccess.sentence(error)))
                }
            }
        }
        if hasThen {
            if actions != 1 {
                problems.append(FieldProblem(field: "then", message: "Give exactly one of reply, show, handoff (true) or set."))
            } else if let reply {
                if templates.contains(reply) {
                    rule.action = .reply(template: reply)
                } else {
                    problems.append(FieldProblem(field: "then.reply", message: "There is no template “\(reply.prefix(60))”."))
                }
            } else if let show {
                if Slug.isValidArticleSlug(show) {
                    rule.action = .show(slug: show)
                } else {
                    problems.append(FieldProblem(field: "then.show", message: "Name a FAQ entry's or an article's slug."))
                }
            } else if let set {
                if set.count == 1, let (field, value) = set.first, Slug.isValidArticleSlug(field), field.count <= 40,
                    value.databaseLength <= 200
                {
                    rule.action = .setField(field, value.apiText)
                } else {
                    problems.append(
                        FieldProblem(
                            field: "then.set", message: "Set one contact field (a-z, 0-9, -; up to 40) to a value of up to 200 characters.")
                    )
                }
            } else {
                rule.action = .handOff
            }
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
        return rule
    }
}

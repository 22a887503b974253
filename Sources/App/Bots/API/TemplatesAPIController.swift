import Foundation
import Hummingbird

/// `/api/v1/templates`: the bot's response templates (Mustache text with the variables `ResponseTemplate.variables`,
/// quick-reply buttons), by name, for a shop's key.
struct TemplatesAPIController: Sendable {
    let config: BotConfigStore
    let access: BotAPIAccess
    let auditLog: AuditLog

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("templates", use: list)
        group.post("templates", use: create)
        group.get("templates/:name", use: show)
        group.put("templates/:name", use: update)
        group.delete("templates/:name", use: delete)
    }

    struct TemplateJSON: Encodable {
        let name: String
        let text: String
        let buttons: [String]

        init(_ template: ResponseTemplate) {
            name = template.name
            text = template.text
            buttons = template.buttons
        }
    }

    struct TemplateBody: Decodable, Sendable {
        var name, text: String?
        var buttons: [String]?
        var unknown: [String] = []

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: JSONKey.self)
            unknown = container.unknown(["name", "text", "buttons"])
            name = try container.optional(String.self, "name")
            text = try container.optional(String.self, "text")
            buttons = try container.optional([String].self, "buttons")
        }

        /// `template` with the fields given, checked (a broken tag or an unknown variable is refused with its sentence).
        func applied(to template: ResponseTemplate) throws -> ResponseTemplate {
            try unknown.refuseUnknown()
            var template = template
            // Lengths as sent, as the document counts them.
            if let text, text.databaseLength > 4000 {
                throw APIError.validation([FieldProblem(field: "text", message: "At most 4000 characters.")])
            }
            if let buttons, buttons.contains(where: { $0.databaseLength > 60 }) {
                throw APIError.validation([FieldProblem(field: "buttons", message: "Each quick reply has at most 60 characters.")])
            }
            if let text { template.text = text.replacingOccurrences(of: "\r\n", with: "\n").apiText }
            if let buttons { template.buttons = buttons.map(\.apiText) }
            try BotAPIAccess.refuse(BotConfigStore.check(template))
            return template
        }
    }

    static let noSuchTemplate = APIError.notFound("There is no such template.")

    /// Templates in name order, a page at a time.
    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let page = try PageRequest(request)
        let templates = try await access.read(tenant, context) { try await config.templates(on: $0) }
        return APIJSON.response(page.page(all: templates, key: \.name, item: TemplateJSON.init))
    }

    @Sendable func show(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let name = context.parameters.get("name") ?? ""
        let template = try await access.read(tenant, context) { try await config.templates(on: $0).first { $0.name == name } }
        guard let template else { throw Self.noSuchTemplate }
        return APIJSON.response(TemplateJSON(template))
    }

    @Sendable func create(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let body = try await APIJSON.decode(TemplateBody.self, from: request)
        let template = try body.applied(to: ResponseTemplate(name: body.name?.apiText ?? "", text: ""))
        let created = try await access.write(tenant, context, field: "text") { connection -> ResponseTemplate? in
            if try await config.templates(on: connection).contains(where: { $0.name == template.name }) {
                throw APIError.conflict(field: "name", "Another template has this name.")
            }
            try await config.upsert(template, on: connection)
            try await auditLog.record(context.audit("template.created", target: template.name), on: connection)
            return try await config.templates(on: connection).first { $0.name == template.name }
        }
        guard let created else { throw Self.noSuchTemplate }
        var response = APIJSON.response(TemplateJSON(created), status: .created)
        response.headers[.location] = "/api/v1/templates/\(created.name)"
        return response
    }

    /// Changes the text or the buttons; a template keeps its name (rules refer to it).
    @Sendable func update(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let name = context.parameters.get("name") ?? ""
        let body = try await APIJSON.decode(TemplateBody.self, from: request)
        if let given = body.name, given.apiText != name {
            throw APIError.validation([FieldProblem(field: "name", message: "A template's name cannot change; create another one.")])
        }
        let updated = try await access.write(tenant, context, field: "text") { connection -> ResponseTemplate? in
            guard let current = try await config.templates(on: connection).first(where: { $0.name == name }) else { return nil }
            let template = try body.applied(to: current)
            if try await config.upsert(template, on: connection) != .unchanged {
                try await auditLog.record(context.audit("template.updated", target: name), on: connection)
            }
            return try await config.templates(on: connection).first { $0.name == name }
        }
        guard let updated else { throw Self.noSuchTemplate }
        return APIJSON.response(TemplateJSON(updated))
    }

    /// Deletes a template no rule replies with (409 names the rule that does).
    @Sendable func delete(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let name = context.parameters.get("name") ?? ""
        let deleted = try await access.write(tenant, context, field: "name") { connection -> Bool in
            if let rule = try await config.rules(on: connection).first(where: { $0.action == .reply(template: name) }) {
                throw APIError(.conflict, "The rule “\(rule.name)” replies with this template; change or delete it first.")
            }
            guard try await config.deleteTemplate(name: name, on: connection) else { return false }
            try await auditLog.record(context.audit("template.deleted", target: name), on: connection)
            return true
        }
        guard deleted else { throw Self.noSuchTemplate }
        return APIJSON.noContent()
    }
}

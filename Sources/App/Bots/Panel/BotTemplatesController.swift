import Foundation
import Hummingbird

/// Reply templates (`/admin/bot/templates`): list, new and edit with a preview on sample data, delete.
public struct BotTemplatesController: Sendable {
    let config: BotConfigStore
    let tenants: TenantDatabase
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        config: BotConfigStore = BotConfigStore(), tenants: TenantDatabase, sessions: SessionStore, auditLog: AuditLog,
        panels: PanelRenderer
    ) {
        self.config = config
        self.tenants = tenants
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.botTemplates, use: list)
        routes.get(.newBotTemplate, use: newForm)
        routes.post(.newBotTemplate, use: create)
        routes.get(.botTemplate(), use: editForm)
        routes.post(.botTemplate(), use: update)
        routes.post(.deleteBotTemplate(), use: delete)
    }

    struct Row {
        let name: String
        let text: String
        let buttons: String
        let editURL: String
    }

    struct ListPage {
        let rows: [Row]
        let empty: Bool
        let canEdit: Bool
        let newURL = PanelURL.newBotTemplate.path
    }

    @Sendable func list(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let templates = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { try await config.templates(on: $0) }
        let rows = templates.map {
            Row(name: $0.name, text: $0.text, buttons: $0.buttons.joined(separator: " · "), editURL: PanelURL.botTemplate($0.name).path)
        }
        let page = ListPage(rows: rows, empty: rows.isEmpty, canEdit: context.panel.allows(.editBotKnowledge))
        return panels.page("pages/bot/templates", page, context: context, title: t["nav_bot_templates"] ?? "", current: .botTemplates)
    }

    struct FormPage {
        var isNew: Bool
        var action: String
        var name: String
        var text: String
        var buttons: String
        var errors: [String: String] = [:]
        var showErrors = false
        var preview: String?
        var previewButtons: [String] = []
        var deleteURL: String?
        var variables = ResponseTemplate.variables.map { "{{" + $0 + "}}" }.joined(separator: " ")
        let cancelURL = PanelURL.botTemplates.path
    }

    @Sendable func newForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        try await render(FormPage(isNew: true, action: PanelURL.newBotTemplate.path, name: "", text: "", buttons: ""), context)
    }

    @Sendable func editForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let name = try BotPanel.name(context)
        guard let template = try await find(name, context) else { throw HTTPError(.notFound) }
        var page = FormPage(
            isNew: false, action: PanelURL.botTemplate(name).path, name: name, text: template.text,
            buttons: template.buttons.joined(separator: "\n"))
        page.deleteURL = PanelURL.deleteBotTemplate(name).path
        return try await render(page, context)
    }

    @Sendable func create(request: Request, context: PanelRequestContext) async throws -> Response {
        try await save(name: nil, context: context)
    }

    @Sendable func update(request: Request, context: PanelRequestContext) async throws -> Response {
        let name = try BotPanel.name(context)
        guard try await find(name, context) != nil else { throw HTTPError(.notFound) }
        return try await save(name: name, context: context)
    }

    /// Creates (`name == nil`) or changes a template, or shows the form again (with its preview) and the refused fields.
    private func save(name: String?, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let form = context.form
        var page = FormPage(
            isNew: name == nil, action: name.map { PanelURL.botTemplate($0).path } ?? PanelURL.newBotTemplate.path,
            name: name ?? form.text("name").lowercased(), text: form.raw("text").trimmingCharacters(in: .whitespacesAndNewlines),
            buttons: form.raw("buttons").trimmingCharacters(in: .whitespacesAndNewlines))
        page.deleteURL = name.map { PanelURL.deleteBotTemplate($0).path }
        let template = ResponseTemplate(
            name: page.name, text: page.text,
            buttons: page.buttons.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        page.errors = BotConfigStore.check(template).reduce(into: [:]) { errors, item in
            errors[item.key] =
                item.key == "text" ? Self.textProblem(template.text, item.value, t: t) : t["bot_template_invalid_" + item.key]
        }
        if name == nil, page.errors["name"] == nil, try await find(page.name, context) != nil {
            page.errors["name"] = t["bot_template_name_taken"]
        }
        if form["intent"] == "preview" || !page.errors.isEmpty {
            return try await render(page, context, status: page.errors.isEmpty ? .ok : .unprocessableContent).response
        }
        let audit = context.panel.audit(name == nil ? "bot.template_created" : "bot.template_updated", target: template.name)
        try await tenants.withTenant(tenant, logger: context.logger) { connection in
            if try await config.upsert(template, on: connection) != .unchanged { try await auditLog.record(audit, on: connection) }
        }
        try await sessions.setFlash(
            Flash(.success, t[name == nil ? "bot_template_created" : "bot_template_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botTemplates.path, type: .normal)
    }

    @Sendable func delete(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let name = try BotPanel.name(context)
        let deleted = try await tenants.withTenant(tenant, logger: context.logger) { connection in
            guard try await config.deleteTemplate(name: name, on: connection) else { return false }
            try await auditLog.record(context.panel.audit("bot.template_deleted", target: name), on: connection)
            return true
        }
        guard deleted else { throw HTTPError(.notFound) }
        try await sessions.setFlash(
            Flash(.success, panels.texts(context)["bot_template_deleted"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botTemplates.path, type: .normal)
    }

    /// The text's sentence: ours for an empty or long text, ours and the engine's for a template that does not compile.
    static func textProblem(_ text: String, _ engine: String, t: [String: String]) -> String? {
        if text.isEmpty { return t["form_required"] }
        if text.count > 4000 { return t["form_too_long"] }
        return (t["bot_template_invalid"] ?? "") + " " + engine
    }

    private func find(_ name: String, _ context: PanelRequestContext) async throws -> ResponseTemplate? {
        let tenant = try BotPanel.tenant(context)
        return try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            try await config.templates(on: connection).first { $0.name == name }
        }
    }

    /// The form with its preview: the text rendered for a sample shopper on the widget, with the shop's and bot's names.
    private func render(_ page: FormPage, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        var page = page
        page.showErrors = !page.errors.isEmpty
        if page.errors["text"] == nil, !page.text.isEmpty {
            let language = BotLanguage(rawValue: context.panel.language) ?? .ru
            let bot = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) {
                try await BotStore().find(id: nil, on: $0)
            }
            let values = TemplateValues(
                contactName: language == .ru ? "Анна" : "Anna", shopName: tenant.resolvedBranding.name ?? tenant.name,
                botName: bot?.displayName(language) ?? BotTexts.defaultName(language), channel: .widget)
            page.preview = ResponseTemplates.render(text: page.text, values)
            page.previewButtons = page.buttons.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return panels.page(
            "pages/bot/template-form", page, context: context, title: t[page.isNew ? "bot_template_new" : "bot_template_edit"] ?? "",
            current: .botTemplates, crumbs: [(.botTemplates, t["nav_bot_templates"] ?? "")], status: status)
    }
}

import Foundation
import Hummingbird

/// The bot's rules (`/admin/bot/rules`): "when the shopper says this, do that", in order, each on or off.
public struct BotRulesController: Sendable {
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
        routes.get(.botRules, use: list)
        routes.get(.newBotRule, use: newForm)
        routes.post(.newBotRule, use: create)
        routes.get(.botRule(), use: editForm)
        routes.post(.botRule(), use: update)
        routes.post(.deleteBotRule(), use: delete)
    }

    struct Row {
        let name: String
        let position: Int
        let enabled: Bool
        let trigger: String
        let action: String
        let editURL: String
    }

    struct ListPage {
        let rows: [Row]
        let empty: Bool
        let canEdit: Bool
        let newURL = PanelURL.newBotRule.path
    }

    @Sendable func list(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let rules = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { try await config.rules(on: $0) }
        let rows = rules.map { rule in
            let (triggerKind, triggerText) = BotRuleForm.text(of: rule.trigger)
            let (actionKind, actionValue) = BotRuleForm.text(of: rule.action)
            return Row(
                name: rule.name, position: rule.position, enabled: rule.enabled,
                trigger: (t["bot_trigger_" + triggerKind] ?? triggerKind) + ": " + triggerText.replacingOccurrences(of: "\n", with: ", "),
                action: (t["bot_action_" + actionKind] ?? actionKind) + (actionValue.isEmpty ? "" : ": " + actionValue),
                editURL: PanelURL.botRule(rule.name).path)
        }
        let page = ListPage(rows: rows, empty: rows.isEmpty, canEdit: context.panel.allows(.editBot))
        return panels.page("pages/bot/rules", page, context: context, title: t["nav_bot_rules"] ?? "", current: .botRules)
    }

    @Sendable func newForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let next = try await rules(context).map(\.position).max().map { $0 + 1 } ?? 1
        let rule = Rule(name: "", position: next, trigger: .keywords([]), action: .handOff)
        return try await render(BotRuleForm(isNew: true, action: PanelURL.newBotRule.path, rule: rule), context)
    }

    @Sendable func editForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let name = try BotPanel.name(context)
        guard let rule = try await rules(context).first(where: { $0.name == name }) else { throw HTTPError(.notFound) }
        var form = BotRuleForm(isNew: false, action: PanelURL.botRule(name).path, rule: rule)
        form.deleteURL = PanelURL.deleteBotRule(name).path
        return try await render(form, context)
    }

    @Sendable func create(request: Request, context: PanelRequestContext) async throws -> Response {
        try await save(name: nil, context: context)
    }

    @Sendable func update(request: Request, context: PanelRequestContext) async throws -> Response {
        let name = try BotPanel.name(context)
        guard try await rules(context).contains(where: { $0.name == name }) else { throw HTTPError(.notFound) }
        return try await save(name: name, context: context)
    }

    /// Creates (`name == nil`) or changes a rule, or shows the form again with the refused fields.
    private func save(name: String?, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        var form = BotRuleForm(
            isNew: name == nil, action: name.map { PanelURL.botRule($0).path } ?? PanelURL.newBotRule.path, name: name, form: context.form)
        form.deleteURL = name.map { PanelURL.deleteBotRule($0).path }
        let templates = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) {
            try await config.templates(on: $0).map(\.name)
        }
        let (rule, errors) = form.rule(templates: templates, t: t)
        form.errors = errors
        if name == nil, errors["name"] == nil, try await rules(context).contains(where: { $0.name == form.name }) {
            form.errors["name"] = t["bot_rule_name_taken"]
        }
        guard let rule, form.errors.isEmpty else { return try await render(form, context, status: .unprocessableContent).response }
        let audit = context.panel.audit(name == nil ? "bot.rule_created" : "bot.rule_updated", target: rule.name)
        try await tenants.withTenant(tenant, logger: context.logger) { connection in
            if try await config.upsert(rule, on: connection) != .unchanged { try await auditLog.record(audit, on: connection) }
        }
        try await sessions.setFlash(
            Flash(.success, t[name == nil ? "bot_rule_created" : "bot_rule_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botRules.path, type: .normal)
    }

    @Sendable func delete(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let name = try BotPanel.name(context)
        let deleted = try await tenants.withTenant(tenant, logger: context.logger) { connection in
            guard try await config.deleteRule(name: name, on: connection) else { return false }
            try await auditLog.record(context.panel.audit("bot.rule_deleted", target: name), on: connection)
            return true
        }
        guard deleted else { throw HTTPError(.notFound) }
        try await sessions.setFlash(
            Flash(.success, panels.texts(context)["bot_rule_deleted"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botRules.path, type: .normal)
    }

    private func rules(_ context: PanelRequestContext) async throws -> [Rule] {
        let tenant = try BotPanel.tenant(context)
        return try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { try await config.rules(on: $0) }
    }

    private func render(_ form: BotRuleForm, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        var form = form
        form.options(t)
        form.templates = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) {
            try await config.templates(on: $0).map(\.name)
        }
        return panels.page(
            "pages/bot/rule-form", form, context: context, title: t[form.isNew ? "bot_rule_new" : "bot_rule_edit"] ?? "",
            current: .botRules, crumbs: [(.botRules, t["nav_bot_rules"] ?? "")], status: status)
    }
}

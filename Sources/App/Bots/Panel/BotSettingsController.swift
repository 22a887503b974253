import Foundation
import Hummingbird

/// The bot's settings (`/admin/bot`): name, texts, language, threshold, hand-off and business hours.
public struct BotSettingsController: Sendable {
    let bots: BotStore
    let tenants: TenantDatabase
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(bots: BotStore = BotStore(), tenants: TenantDatabase, sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer) {
        self.bots = bots
        self.tenants = tenants
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.bot, use: edit)
        routes.post(.bot, use: update)
    }

    @Sendable func edit(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let bot = try await find(context)
        return render(BotSettingsPage(bot), context)
    }

    /// Saves the settings, or shows the form again with what was typed and a sentence beside each refused field.
    @Sendable func update(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let current = try await find(context)
        var page = BotSettingsPage(form: context.form)
        let (bot, errors) = page.settings(applied: current, t: t)
        page.errors = errors
        guard errors.isEmpty else { return render(page, context, status: .unprocessableContent).response }
        let audit = context.panel.audit("bot.settings_changed", target: bot.slug, details: Self.changes(from: current, to: bot))
        do {
            let found = try await tenants.withTenant(tenant, logger: context.logger) { connection in
                guard try await bots.update(bot, on: connection) else { return false }
                try await auditLog.record(audit, on: connection)
                return true
            }
            guard found else { throw HTTPError(.notFound) }
        } catch let error as BotSettingsError {
            page.errors["form"] = error.description
            return render(page, context, status: .unprocessableContent).response
        }
        try await sessions.setFlash(Flash(.success, t["bot_settings_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.bot.path, type: .normal)
    }

    /// The names of the settings that changed, for the audit entry.
    static func changes(from old: Bot, to new: Bot) -> [String: String] {
        var changed: [String] = []
        if old.name != new.name { changed.append("name") }
        if old.greeting != new.greeting { changed.append("greeting") }
        if old.fallback != new.fallback { changed.append("fallback") }
        if old.language != new.language { changed.append("language") }
        if old.threshold != new.threshold { changed.append("threshold") }
        if old.handoffOnRequest != new.handoffOnRequest || old.handoffAfterFallbacks != new.handoffAfterFallbacks
            || old.handoffKeywords != new.handoffKeywords
        {
            changed.append("handoff")
        }
        if old.hours != new.hours || old.awayMessage != new.awayMessage { changed.append("hours") }
        return changed.isEmpty ? [:] : ["changed": changed.joined(separator: ", ")]
    }

    private func find(_ context: PanelRequestContext) async throws -> Bot {
        let tenant = try BotPanel.tenant(context)
        guard
            let bot = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger, { try await bots.find(id: nil, on: $0) })
        else { throw HTTPError(.notFound) }
        return bot
    }

    private func render(_ page: BotSettingsPage, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok) -> HTMLPage {
        let t = panels.texts(context)
        var page = page
        page.showErrors = !page.errors.isEmpty
        page.languages = Bot.Language.allCases.map {
            SelectOption(value: $0.rawValue, label: t["bot_language_" + $0.rawValue] ?? $0.rawValue, selected: $0.rawValue == page.language)
        }
        page.defaultThreshold = (t["bot_threshold_hint"] ?? "").replacingOccurrences(
            of: "%n", with: BotPanel.score(Retriever.defaultThreshold, language: context.panel.language) ?? "")
        return panels.page("pages/bot/settings", page, context: context, title: t["nav_bot"] ?? "", current: .bot, status: status)
    }
}

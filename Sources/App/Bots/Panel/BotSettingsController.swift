import Foundation
import Hummingbird

/// The bot's settings (`/admin/bot`, `?bot=<slug>` for another of the shop's bots): name, picture, texts, language,
/// threshold, hand-off and business hours; and adding a bot (`/admin/bot/new`) within the plan's `bots` limit.
public struct BotSettingsController: Sendable {
    let bots: BotStore
    let assets: BrandAssetStore
    let plans: PlanStore
    let tenants: TenantDatabase
    let sessions: SessionStore
    let auditLog: AuditLog
    let scripts: PanelScripts
    let panels: PanelRenderer

    public init(
        bots: BotStore = BotStore(), assets: BrandAssetStore, plans: PlanStore, tenants: TenantDatabase, sessions: SessionStore,
        auditLog: AuditLog, scripts: PanelScripts, panels: PanelRenderer
    ) {
        self.bots = bots
        self.assets = assets
        self.plans = plans
        self.tenants = tenants
        self.sessions = sessions
        self.auditLog = auditLog
        self.scripts = scripts
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.bot, use: edit)
        routes.post(.bot, use: update)
        routes.post(.newBot, use: create)
    }

    @Sendable func edit(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let bot = try await find(request, context)
        return try await render(BotSettingsPage(bot), context)
    }

    /// Adds a bot with a slug and a name; over the plan's limit, the page again with the limit's sentence (409).
    @Sendable func create(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let slug = context.form.text("new_slug").lowercased()
        let name = context.form.text("new_name")
        var page = BotSettingsPage(try await find(request, context))
        page.newSlug = slug
        page.newName = name
        guard Slug.isValid(slug) else {
            page.errors["new_slug"] = t["bot_new_slug_invalid"]
            return try await render(page, context, status: .unprocessableContent).response
        }
        guard name.count <= 80 else {
            page.errors["new_name"] = t["form_too_long"]
            return try await render(page, context, status: .unprocessableContent).response
        }
        let plans = plans
        do {
            try await tenants.withTenant(tenant, logger: context.logger) { connection in
                _ = try await bots.create(Bot(slug: slug, name: name), tenantID: tenant.id, plans: plans, on: connection)
                try await auditLog.record(context.panel.audit("bot.created", target: slug), on: connection)
            }
        } catch let full as BotLimitReached {
            page.errors["new_slug"] = (t["bot_limit_reached"] ?? "").replacingOccurrences(of: "%count", with: String(full.limit))
            return try await render(page, context, status: .conflict).response
        } catch is BotSlugTaken {
            page.errors["new_slug"] = t["bot_slug_taken"]
            return try await render(page, context, status: .conflict).response
        }
        try await sessions.setFlash(Flash(.success, t["bot_created"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.bot.path(query: [("bot", slug)]), type: .normal)
    }

    /// Saves the settings, or shows the form again with what was typed and a sentence beside each refused field.
    @Sendable func update(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let current = try await find(request, context)
        var page = BotSettingsPage(form: context.form)
        page.slug = current.slug
        // An uploaded picture is stored at once by its content (like a logo), so a form sent back for a correction
        // keeps it in its hidden field.
        var uploadError: String?
        if let file = context.form.files["avatar_file"], context.form["avatar_remove"] == nil {
            switch BrandImage.check(file.bytes, allowed: [.png, .svg]) {
            case .success(let image):
                _ = try await assets.store(image)
                page.avatar = "\(image.sha256).\(image.kind.rawValue)"
            case .failure(let problem): uploadError = t[problem.rawValue] ?? problem.rawValue
            }
        }
        var (bot, errors) = page.settings(applied: current, t: t)
        if let uploadError { errors["avatar"] = uploadError }
        page.errors = errors
        guard errors.isEmpty else { return try await render(page, context, status: .unprocessableContent).response }
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
            return try await render(page, context, status: .unprocessableContent).response
        }
        try await sessions.setFlash(Flash(.success, t["bot_settings_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.bot.path(query: [("bot", page.slug)]), type: .normal)
    }

    /// The names of the settings that changed, for the audit entry.
    static func changes(from old: Bot, to new: Bot) -> [String: String] {
        var changed: [String] = []
        if old.name != new.name { changed.append("name") }
        if old.avatar != new.avatar { changed.append("avatar") }
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
        if old.widget != new.widget { changed.append("widget") }
        return changed.isEmpty ? [:] : ["changed": changed.joined(separator: ", ")]
    }

    /// The bot the address names (`?bot=<slug>`), else the shop's first.
    private func find(_ request: Request, _ context: PanelRequestContext) async throws -> Bot {
        let tenant = try BotPanel.tenant(context)
        let slug = request.uri.queryParameters.get("bot")
        let bot = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            if let slug { return try await bots.find(slug: slug, on: connection) }
            return try await bots.find(id: nil, on: connection)
        }
        guard let bot else { throw HTTPError(.notFound) }
        return bot
    }

    private func render(
        _ page: BotSettingsPage, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let t = panels.texts(context)
        var page = page
        let tenant = try BotPanel.tenant(context)
        let plans = plans
        let (all, limit) = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            (try await bots.list(on: connection), try await plans.limits(tenantID: tenant.id, on: connection)?.maxBots)
        }
        let language = BotLanguage(rawValue: context.panel.language) ?? .ru
        page.bots = all.map { bot in
            BotSettingsPage.BotLink(
                name: bot.displayName(language), slug: bot.slug, url: PanelURL.bot.path(query: [("bot", bot.slug)]),
                current: bot.slug == page.slug)
        }
        if let limit {
            page.limitNote = (t["bot_limit_note"] ?? "").replacingOccurrences(of: "%used", with: String(all.count))
                .replacingOccurrences(of: "%count", with: String(limit))
        }
        page.finish()
        page.finishWidget(t: t)
        if let llm = all.first(where: { $0.slug == page.slug })?.llm {
            let summary = t["llm_summary_" + llm.mode.rawValue] ?? llm.mode.rawValue
            page.modelSummary = summary.replacingOccurrences(of: "%model", with: llm.provider?.name ?? "")
        }
        // The storefront loads the widget from the host the panel was opened at (a shop's host serves it).
        page.embedCode = "<script src=\"\(context.origin())\(WidgetURL.script.path)\" data-bot=\"\(page.slug)\" async></script>"
        page.copyScript = scripts.copy
        page.showErrors = page.errors.keys.contains { !$0.hasPrefix("new_") }
        page.languages = Bot.Language.allCases.map {
            SelectOption(value: $0.rawValue, label: t["bot_language_" + $0.rawValue] ?? $0.rawValue, selected: $0.rawValue == page.language)
        }
        page.defaultThreshold = (t["bot_threshold_hint"] ?? "").replacingOccurrences(
            of: "%n", with: BotPanel.score(Retriever.defaultThreshold, language: context.panel.language) ?? "")
        return panels.page("pages/bot/settings", page, context: context, title: t["nav_bot"] ?? "", current: .bot, status: status)
    }
}

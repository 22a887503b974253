import Foundation
import Hummingbird

/// The bot's language model (`/admin/bot/model?bot=<slug>`, admins and owners): the agency's model, its own (provider,
/// address, model, a write-only key) or none; the shop's instructions; what an uncited answer becomes. "Test the
/// connection" (`/admin/bot/model/test`) asks the provider with the form's values and stores nothing. The CA bundle
/// is the operator's (`tenants.yml`) and is kept.
public struct BotLLMController: Sendable {
    let tenants: TenantDatabase
    let models: BotModelStore
    let secrets: SecretBox
    let tester: LLMConnectionTest
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        tenants: TenantDatabase, models: BotModelStore = BotModelStore(), secrets: SecretBox,
        tester: LLMConnectionTest, sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer
    ) {
        self.tenants = tenants
        self.models = models
        self.secrets = secrets
        self.tester = tester
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.botModel, use: show)
        routes.post(.botModel, use: save)
        routes.post(.botModelTest, use: test)
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let current = try await read(request, context)
        return render(BotLLMPage(current.bot), current, context)
    }

    /// Saves the model settings, or the form again with what was typed (not the key) and a sentence by each field.
    @Sendable func save(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let current = try await read(request, context)
        var page = BotLLMPage(form: context.form)
        page.slug = current.bot.slug
        let (settings, errors) = page.settings(over: current.bot.llm, endpoints: tester.endpoints, t: t)
        page.errors = errors
        if errors.isEmpty,
            await tester.endpoints.leadsInside(settings.provider?.baseURL, stored: current.bot.llm.provider?.baseURL)
        {
            page.errors["base_url"] = t["llm_error_private"]
        }
        guard page.errors.isEmpty else { return render(page, current, context, status: .unprocessableContent).response }
        let (bot, models, secrets, auditLog, change) = (current.bot, models, secrets, auditLog, page.keyChange)
        let panel = context.panel
        do {
            let found = try await tenants.withTenant(tenant, logger: context.logger) { connection in
                let stored = try await models.sealedKey(botID: bot.id, lock: true, on: connection)
                let sealed = try LLMEdit.sealedKey(
                    change, stored: stored, provider: settings.provider, storedProvider: bot.llm.provider, secrets: secrets)
                guard try await models.write(botID: bot.id, settings, sealedKey: sealed, on: connection) else { return false }
                let key: LLMKeyChange = stored == nil && sealed == nil ? .keep : change
                let details = LLMEdit.changes(from: bot.llm, to: settings, key: key)
                try await auditLog.record(panel.audit("bot.model_changed", target: bot.slug, details: details), on: connection)
                return true
            }
            guard found else { throw HTTPError(.notFound) }
        } catch let error as BotSettingsError {
            let (field, sentence) = LLMEdit.field(of: error)
            page.errors[field] = t["llm_error_" + (error == LLMEdit.retypeKey ? "retype_key" : field)] ?? sentence
            return render(page, current, context, status: .unprocessableContent).response
        }
        try await sessions.setFlash(Flash(.success, t["llm_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botModel.path(query: [("bot", bot.slug)]), type: .normal)
    }

    /// Asks the model the form names (the agency's when the bot follows it) to say OK; the page again with the result.
    @Sendable func test(request: Request, context: PanelRequestContext) async throws -> Response {
        let t = panels.texts(context)
        let current = try await read(request, context)
        var page = BotLLMPage(form: context.form)
        page.slug = current.bot.slug
        let (settings, errors) = page.settings(over: current.bot.llm, endpoints: tester.endpoints, t: t)
        page.errors = errors
        guard errors.isEmpty else { return render(page, current, context, status: .unprocessableContent).response }
        if let wait = tester.take("user:" + context.panel.user.user.id.uuidString) {
            page.result = LLMTestView(ok: false, text: (t["llm_test_throttled"] ?? "").replacingOccurrences(of: "%s", with: String(wait)))
            var response = render(page, current, context, status: .tooManyRequests).response
            response.headers[.retryAfter] = String(wait)
            return response
        }
        // Looked up once the test is counted: a look-up is work a person may not ask for without limit.
        if await tester.endpoints.leadsInside(settings.provider?.baseURL, stored: current.bot.llm.provider?.baseURL) {
            page.errors["base_url"] = t["llm_error_private"]
            return render(page, current, context, status: .unprocessableContent).response
        }
        let target: (LLMProvider, String)
        switch settings.mode {
        case .off:
            page.result = LLMTestView(ok: false, text: t["llm_test_off"] ?? "")
            return render(page, current, context).response
        case .partner:
            guard let agency = current.agency else {
                page.result = LLMTestView(ok: false, text: t["llm_agency_none"] ?? "")
                return render(page, current, context).response
            }
            guard let key = try? agency.sealedKey.map(secrets.open) ?? "" else {
                page.result = LLMTestView(ok: false, text: t["llm_key_damaged"] ?? "")
                return render(page, current, context).response
            }
            target = (agency.provider, key)
        case .own:
            guard let provider = settings.provider else { throw HTTPError(.unprocessableContent) }
            do {
                target = (
                    provider,
                    try LLMEdit.testKey(
                        page.keyChange, stored: current.sealedKey, provider: provider, storedProvider: current.bot.llm.provider,
                        secrets: secrets)
                )
            } catch is BotSettingsError {
                page.errors["api_key"] = t["llm_error_retype_key"]
                return render(page, current, context, status: .unprocessableContent).response
            } catch {
                page.result = LLMTestView(ok: false, text: t["llm_key_damaged"] ?? "")
                return render(page, current, context).response
            }
        }
        let outcome = await tester.run(target.0, key: target.1, logger: context.logger)
        page.result = LLMTestView(outcome, t: t, language: context.panel.language)
        return render(page, current, context).response
    }

    /// The bot the address names (`?bot=<slug>`, else the shop's first), its sealed key and its agency's model.
    private func read(_ request: Request, _ context: PanelRequestContext) async throws -> BotModelState {
        let tenant = try BotPanel.tenant(context)
        let slug = request.uri.queryParameters.get("bot")
        let models = models
        let current = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            try await models.state(slug: slug, tenantID: tenant.id, on: connection)
        }
        guard let current else { throw HTTPError(.notFound) }
        return current
    }

    private func render(
        _ page: BotLLMPage, _ current: BotModelState, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let t = panels.texts(context)
        var page = page
        page.botName = current.bot.displayName(BotLanguage(rawValue: context.panel.language) ?? .ru)
        page.keyMask = current.sealedKey.map { sealed in (try? secrets.open(sealed)).map(SecretBox.masked) ?? (t["llm_key_damaged"] ?? "") }
        page.caBundle = current.bot.llm.provider?.caBundle != nil
        page.finish(agency: current.agency?.provider, t: t)
        return panels.page(
            "pages/bot/model", page, context: context, title: t["llm_title"] ?? "", current: .botModel,
            crumbs: [(.bot, t["nav_bot"] ?? "")], status: status)
    }
}

import Foundation
import Hummingbird

/// The agency's language model (`/admin/model` in its console; its staff, or the platform's operator on the agency's
/// host): the provider its shops' bots use unless they have their own, written to its own row of `platform.partners`
/// with the key sealed, and "Test the connection" (`/admin/model/test`), which stores nothing.
public struct PartnerLLMController: Sendable {
    let database: Database
    let store: PartnerModelStore
    let secrets: SecretBox
    let tester: LLMConnectionTest
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        database: Database, store: PartnerModelStore = PartnerModelStore(), secrets: SecretBox, tester: LLMConnectionTest,
        sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer
    ) {
        self.database = database
        self.store = store
        self.secrets = secrets
        self.tester = tester
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.partnerModel, use: show)
        routes.post(.partnerModel, use: save)
        routes.post(.partnerModelTest, use: test)
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let partner = try Self.partner(context)
        let (provider, sealed) = try await store.read(partnerID: partner.id, on: database)
        return render(PartnerLLMPage(provider), provider: provider, sealed: sealed, context)
    }

    /// Saves the agency's model, or the form again with what was typed (not the key) and a sentence by each field.
    @Sendable func save(request: Request, context: PanelRequestContext) async throws -> Response {
        let partner = try Self.partner(context)
        let t = panels.texts(context)
        let (stored, sealed) = try await store.read(partnerID: partner.id, on: database)
        var page = PartnerLLMPage(form: context.form)
        let (provider, errors) = page.provider(over: stored, endpoints: tester.endpoints, t: t)
        page.errors = errors
        if errors.isEmpty, await tester.endpoints.leadsInside(provider?.baseURL, stored: stored?.baseURL) {
            page.errors["base_url"] = t["llm_error_private"]
        }
        guard page.errors.isEmpty else {
            return render(page, provider: stored, sealed: sealed, context, status: .unprocessableContent).response
        }
        let (store, secrets, auditLog, change, panel) = (store, secrets, auditLog, page.keyChange, context.panel)
        do {
            try await database.transaction(logger: context.logger) { transaction in
                let locked = try await store.read(partnerID: partner.id, lock: true, on: transaction)
                let key = try LLMEdit.sealedKey(
                    change, stored: locked.sealedKey, provider: provider, storedProvider: locked.provider, secrets: secrets)
                try await store.write(partnerID: partner.id, provider: provider, sealedKey: key, on: transaction)
                var details = ["provider": provider?.name ?? "none"]
                if locked.sealedKey != key { details["key"] = key == nil ? "removed" : "replaced" }
                if locked.provider != provider { details["changed"] = "provider" }
                try await auditLog.record(panel.audit("partner.model_changed", target: partner.slug, details: details), on: transaction)
            }
        } catch let error as BotSettingsError {
            let (field, sentence) = LLMEdit.field(of: error)
            page.errors[field] = t["llm_error_" + (error == LLMEdit.retypeKey ? "retype_key" : field)] ?? sentence
            return render(page, provider: stored, sealed: sealed, context, status: .unprocessableContent).response
        }
        try await sessions.setFlash(Flash(.success, t["llm_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.partnerModel.path, type: .normal)
    }

    /// Asks the provider the form names to say OK (the stored key when none is typed); the page again with the result.
    @Sendable func test(request: Request, context: PanelRequestContext) async throws -> Response {
        let partner = try Self.partner(context)
        let t = panels.texts(context)
        let (stored, sealed) = try await store.read(partnerID: partner.id, on: database)
        var page = PartnerLLMPage(form: context.form)
        let (typed, errors) = page.provider(over: stored, endpoints: tester.endpoints, t: t)
        page.errors = errors
        guard errors.isEmpty else { return render(page, provider: stored, sealed: sealed, context, status: .unprocessableContent).response }
        guard let provider = typed else {
            page.result = LLMTestView(ok: false, text: t["llm_test_nothing"] ?? "")
            return render(page, provider: stored, sealed: sealed, context).response
        }
        if let wait = tester.take("user:" + context.panel.user.user.id.uuidString) {
            page.result = LLMTestView(ok: false, text: (t["llm_test_throttled"] ?? "").replacingOccurrences(of: "%s", with: String(wait)))
            var response = render(page, provider: stored, sealed: sealed, context, status: .tooManyRequests).response
            response.headers[.retryAfter] = String(wait)
            return response
        }
        // Looked up once the test is counted: a look-up is work a person may not ask for without limit.
        if await tester.endpoints.leadsInside(provider.baseURL, stored: stored?.baseURL) {
            page.errors["base_url"] = t["llm_error_private"]
            return render(page, provider: stored, sealed: sealed, context, status: .unprocessableContent).response
        }
        let key: String
        do {
            key = try LLMEdit.testKey(page.keyChange, stored: sealed, provider: provider, storedProvider: stored, secrets: secrets)
        } catch is BotSettingsError {
            page.errors["api_key"] = t["llm_error_retype_key"]
            return render(page, provider: stored, sealed: sealed, context, status: .unprocessableContent).response
        } catch {
            page.result = LLMTestView(ok: false, text: t["llm_key_damaged"] ?? "")
            return render(page, provider: stored, sealed: sealed, context).response
        }
        let outcome = await tester.run(provider, key: key, logger: context.logger)
        page.result = LLMTestView(outcome, t: t, language: context.panel.language)
        return render(page, provider: stored, sealed: sealed, context).response
    }

    /// The agency whose console this is (the page means nothing elsewhere).
    static func partner(_ context: PanelRequestContext) throws -> PartnerRecord {
        guard let partner = context.panel.partner else { throw HTTPError(.notFound) }
        return partner
    }

    private func render(
        _ page: PartnerLLMPage, provider stored: LLMProvider?, sealed: String?, _ context: PanelRequestContext,
        status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let t = panels.texts(context)
        var page = page
        page.keyMask = sealed.map { sealed in (try? secrets.open(sealed)).map(SecretBox.masked) ?? (t["llm_key_damaged"] ?? "") }
        page.caBundle = stored?.caBundle != nil
        page.finish(t: t)
        return panels.page(
            "pages/tenants/model", page, context: context, title: t["llm_partner_title"] ?? "", current: .partnerModel, status: status)
    }
}

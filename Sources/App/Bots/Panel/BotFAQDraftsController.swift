import Foundation
import Hummingbird

/// FAQ entries the model drafted (`/admin/bot/faq/drafts`): the list with each draft's source and the state of the
/// latest runs; asking for drafts from a help article or from the conversations people resolved (a job); approving a
/// draft (the FAQ entry form, prefilled: the shop edits and saves, and the draft is gone once the entry exists) or
/// discarding it.
public struct BotFAQDraftsController: Sendable {
    let drafter: FAQDrafter
    let store = FAQDraftStore()
    let knowledge = KnowledgeStore()
    let tenants: TenantDatabase
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(drafter: FAQDrafter, tenants: TenantDatabase, sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer) {
        self.drafter = drafter
        self.tenants = tenants
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.botFAQDrafts, use: list)
        routes.post(.newBotFAQDrafts, use: request)
        routes.get(.approveBotFAQDraft(), use: approveForm)
        routes.post(.approveBotFAQDraft(), use: approve)
        routes.post(.discardBotFAQDraft(), use: discard)
    }

    @Sendable func list(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let (drafts, articles, jobs) = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            (
                try await store.list(on: connection), try await store.articles(on: connection),
                try await store.jobs(tenantID: tenant.id, on: connection)
            )
        }
        let page = BotFAQDraftsPage(drafts: drafts, articles: articles, jobs: jobs, t: t, language: context.panel.language)
        return panels.page(
            "pages/bot/faq-drafts", page, context: context, title: t["bot_faq_drafts"] ?? "", current: .botFAQ,
            crumbs: [(.botFAQ, t["nav_bot_faq"] ?? "")])
    }

    /// Queues a run: `from=article` with `article=<slug>`, or `from=conversations`.
    @Sendable func request(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let payload: DraftFAQEntries
        switch context.form.text("from") {
        case "article":
            let slug = context.form.text("article")
            guard !slug.isEmpty, slug.count <= 100 else { return try await flash(.error, t["bot_faq_drafts_choose_article"], context) }
            payload = DraftFAQEntries(article: slug)
        case "conversations": payload = DraftFAQEntries(article: nil)
        default: throw HTTPError(.badRequest)
        }
        let audit = context.panel.audit("bot.faq_drafts_requested", target: payload.sourceName)
        let queued: Bool
        do {
            queued = try await tenants.withTenant(tenant, logger: context.logger) { connection in
                let queued = try await drafter.request(payload, tenant: tenant, on: connection)
                if queued { try await auditLog.record(audit, on: connection) }
                return queued
            }
        } catch HelperError.notFound {
            return try await flash(.error, t["bot_faq_drafts_choose_article"], context)
        }
        return try await flash(.success, t[queued ? "bot_faq_drafts_queued" : "bot_faq_drafts_pending"], context)
    }

    /// The FAQ entry form with the draft in it.
    @Sendable func approveForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let id = try Self.draftID(context)
        guard
            let draft = try await tenants.withTenant(
                tenant, readOnly: true, logger: context.logger, { try await store.find(id: id, on: $0) })
        else { throw HTTPError(.notFound) }
        let entry = FAQEntry(
            slug: Transliteration.slug(from: draft.question), question: draft.question, phrasings: draft.phrasings, answer: draft.answer)
        return render(BotFAQFormPage(isNew: true, action: PanelURL.approveBotFAQDraft(id).path, entry: entry), context)
    }

    /// Creates the entry as the shop edited it and deletes the draft, in one transaction (audited as a new entry).
    @Sendable func approve(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let id = try Self.draftID(context)
        var page = BotFAQFormPage(isNew: true, action: PanelURL.approveBotFAQDraft(id).path, form: context.form)
        let (entry, errors) = page.entry(t: t)
        page.errors = errors
        guard errors.isEmpty else { return render(page, context, status: .unprocessableContent).response }
        let audit = context.panel.audit("bot.faq_created", target: entry.slug, details: ["draft": String(id)])
        do {
            let found = try await tenants.withTenant(tenant, logger: context.logger) { connection -> Bool in
                guard try await store.delete(id: id, on: connection) != nil else { return false }
                _ = try await knowledge.create(entry, on: connection)
                try await auditLog.record(audit, on: connection)
                return true
            }
            guard found else { throw HTTPError(.notFound) }
        } catch let error as BotSettingsError where error.description.hasPrefix("slug:") {
            page.errors["slug"] = t["bot_faq_slug_taken"]
            return render(page, context, status: .unprocessableContent).response
        }
        try await sessions.setFlash(Flash(.success, t["bot_faq_created"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botFAQDrafts.path, type: .normal)
    }

    @Sendable func discard(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let id = try Self.draftID(context)
        let source = try await tenants.withTenant(tenant, logger: context.logger) { connection -> String? in
            guard let source = try await store.delete(id: id, on: connection) else { return nil }
            try await auditLog.record(context.panel.audit("bot.faq_draft_discarded", target: source), on: connection)
            return source
        }
        guard source != nil else { throw HTTPError(.notFound) }
        return try await flash(.success, panels.texts(context)["bot_faq_draft_discarded"], context)
    }

    private func flash(_ kind: Flash.Kind, _ message: String?, _ context: PanelRequestContext) async throws -> Response {
        try await sessions.setFlash(Flash(kind, message ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botFAQDrafts.path, type: .normal)
    }

    private func render(_ page: BotFAQFormPage, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok) -> HTMLPage {
        let t = panels.texts(context)
        var page = page
        page.showErrors = !page.errors.isEmpty
        return panels.page(
            "pages/bot/faq-form", page, context: context, title: t["bot_faq_draft_approve"] ?? "", current: .botFAQ,
            crumbs: [(.botFAQ, t["nav_bot_faq"] ?? ""), (.botFAQDrafts, t["bot_faq_drafts"] ?? "")], status: status)
    }

    static func draftID(_ context: PanelRequestContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else { throw HTTPError(.notFound) }
        return id
    }
}

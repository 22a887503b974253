import Foundation
import Hummingbird

/// The bot's FAQ (`/admin/bot/faq`): the list with a "test a question" box, new, edit, delete.
public struct BotFAQController: Sendable {
    let knowledge: KnowledgeStore
    let engine: BotEngine
    let tenants: TenantDatabase
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        knowledge: KnowledgeStore = KnowledgeStore(), engine: BotEngine, tenants: TenantDatabase, sessions: SessionStore,
        auditLog: AuditLog,
        panels: PanelRenderer
    ) {
        self.knowledge = knowledge
        self.engine = engine
        self.tenants = tenants
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.botFAQ, use: list)
        routes.get(.newBotFAQ, use: newForm)
        routes.post(.newBotFAQ, use: create)
        routes.get(.botFAQEntry(), use: editForm)
        routes.post(.botFAQEntry(), use: update)
        routes.post(.deleteBotFAQ(), use: delete)
    }

    /// The entries; with `?q=`, the ranked candidates the bot would consider for that question (nothing is stored).
    @Sendable func list(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let language = context.panel.language
        let entries = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { try await knowledge.faq(on: $0) }
        let query = String(
            (request.uri.queryParameters.get("q").map { String($0) } ?? "").trimmingCharacters(in: .whitespaces).prefix(4000))
        var test: BotFAQListPage.Test?
        if !query.isEmpty {
            let answer = try await engine.preview(query, in: tenant)
            let candidates = answer.candidates.prefix(8).map { candidate in
                BotTryPage.Candidate(
                    title: candidate.title, entry: candidate.entry,
                    source: t["bot_source_" + candidate.source.rawValue] ?? candidate.source.rawValue,
                    score: BotPanel.score(candidate.score, language: language) ?? "",
                    lexical: BotPanel.score(candidate.lexical, language: language) ?? "",
                    semantic: BotPanel.score(candidate.semantic, language: language),
                    chosen: candidate.entry == answer.entry?.slug && (answer.step == .knowledge || answer.step == .rule))
            }
            let threshold =
                (try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) {
                    try await BotStore().find(id: nil, on: $0)
                })?.threshold
            test = BotFAQListPage.Test(
                step: t["bot_step_" + answer.step.rawValue] ?? answer.step.rawValue, answer: answer.text, entryTitle: answer.entry?.title,
                score: BotPanel.score(answer.score, language: language),
                threshold: BotPanel.score(threshold ?? Retriever.defaultThreshold, language: language) ?? "",
                candidates: Array(candidates), hasCandidates: !candidates.isEmpty)
        }
        let rows = entries.compactMap { entry in
            entry.id.map { id in
                BotFAQListPage.Row(
                    question: entry.question, slug: entry.slug,
                    phrasings: (t["bot_faq_phrasings_count"] ?? "%n").replacingOccurrences(
                        of: "%n", with: NumberText.format(entry.phrasings.count, language: language)),
                    enabled: entry.enabled, editURL: PanelURL.botFAQEntry(id).path)
            }
        }
        let page = BotFAQListPage(
            rows: rows, empty: rows.isEmpty, canEdit: context.panel.allows(.editBotKnowledge), query: query, test: test)
        return panels.page("pages/bot/faq", page, context: context, title: t["nav_bot_faq"] ?? "", current: .botFAQ)
    }

    @Sendable func newForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        render(BotFAQFormPage(isNew: true, action: PanelURL.newBotFAQ.path, entry: FAQEntry(slug: "", question: "", answer: "")), context)
    }

    @Sendable func editForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let id = try Self.entryID(context)
        guard
            let entry = try await tenants.withTenant(
                tenant, readOnly: true, logger: context.logger, { try await knowledge.faq(id: id, on: $0) })
        else { throw HTTPError(.notFound) }
        var page = BotFAQFormPage(isNew: false, action: PanelURL.botFAQEntry(id).path, entry: entry)
        page.deleteURL = PanelURL.deleteBotFAQ(id).path
        return render(page, context)
    }

    @Sendable func create(request: Request, context: PanelRequestContext) async throws -> Response {
        try await save(id: nil, context: context)
    }

    @Sendable func update(request: Request, context: PanelRequestContext) async throws -> Response {
        try await save(id: try Self.entryID(context), context: context)
    }

    /// Creates (`id == nil`) or updates an entry with its audit entry, or shows the form again with the refused fields.
    private func save(id: Int?, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        var page = BotFAQFormPage(
            isNew: id == nil, action: id.map { PanelURL.botFAQEntry($0).path } ?? PanelURL.newBotFAQ.path, form: context.form)
        page.deleteURL = id.map { PanelURL.deleteBotFAQ($0).path }
        let (entry, errors) = page.entry(t: t)
        page.errors = errors
        guard errors.isEmpty else { return render(page, context, status: .unprocessableContent).response }
        let audit = context.panel.audit(id == nil ? "bot.faq_created" : "bot.faq_updated", target: entry.slug)
        let found: Bool
        do {
            found = try await tenants.withTenant(tenant, logger: context.logger) { connection in
                if let id {
                    guard try await knowledge.update(id: id, entry, on: connection) else { return false }
                } else {
                    _ = try await knowledge.create(entry, on: connection)
                }
                try await auditLog.record(audit, on: connection)
                return true
            }
        } catch let error as BotSettingsError where error.description.hasPrefix("slug:") {
            page.errors["slug"] = t["bot_faq_slug_taken"]
            return render(page, context, status: .unprocessableContent).response
        }
        guard found else { throw HTTPError(.notFound) }
        try await sessions.setFlash(
            Flash(.success, t[id == nil ? "bot_faq_created" : "bot_faq_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botFAQ.path, type: .normal)
    }

    @Sendable func delete(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let id = try Self.entryID(context)
        let slug = try await tenants.withTenant(tenant, logger: context.logger) { connection -> String? in
            guard let slug = try await knowledge.delete(id: id, on: connection) else { return nil }
            try await auditLog.record(context.panel.audit("bot.faq_deleted", target: slug), on: connection)
            return slug
        }
        guard slug != nil else { throw HTTPError(.notFound) }
        try await sessions.setFlash(
            Flash(.success, panels.texts(context)["bot_faq_deleted"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botFAQ.path, type: .normal)
    }

    private func render(_ page: BotFAQFormPage, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok) -> HTMLPage {
        let t = panels.texts(context)
        var page = page
        page.showErrors = !page.errors.isEmpty
        return panels.page(
            "pages/bot/faq-form", page, context: context, title: t[page.isNew ? "bot_faq_new" : "bot_faq_edit"] ?? "", current: .botFAQ,
            crumbs: [(.botFAQ, t["nav_bot_faq"] ?? "")], status: status)
    }

    static func entryID(_ context: PanelRequestContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else { throw HTTPError(.notFound) }
        return id
    }
}

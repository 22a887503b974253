import Foundation
import Hummingbird

/// The shop's synonyms (`/admin/bot/synonyms`): one `word → meaning` a line, above the built-in starter list.
public struct BotSynonymsController: Sendable {
    let knowledge: KnowledgeStore
    let tenants: TenantDatabase
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        knowledge: KnowledgeStore = KnowledgeStore(), tenants: TenantDatabase, sessions: SessionStore, auditLog: AuditLog,
        panels: PanelRenderer
    ) {
        self.knowledge = knowledge
        self.tenants = tenants
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.botSynonyms, use: show)
        routes.post(.botSynonyms, use: save)
    }

    struct Page {
        let action = PanelURL.botSynonyms.path
        var text: String
        var error: String?
        let canEdit: Bool
        let builtIn: [String]
        let builtInCount: String
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let list = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { try await knowledge.synonyms(on: $0) }
        return render(text: list.map { $0.word + " → " + $0.means }.joined(separator: "\n"), context: context)
    }

    /// Replaces the list (editing needs `editBotKnowledge`; reading the page needs only `viewBot`).
    @Sendable func save(request: Request, context: PanelRequestContext) async throws -> Response {
        guard context.panel.allows(.editBotKnowledge) else { throw RefusalError(.forbidden, messageKey: "error_not_allowed") }
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let text = context.form.raw("synonyms").trimmingCharacters(in: .whitespacesAndNewlines)
        let list: [Synonym]
        switch Self.parse(text) {
        case .success(let parsed): list = parsed
        case .failure(let problem):
            let sentence = (t[problem.key] ?? "").replacingOccurrences(of: "%n", with: String(problem.line))
            return render(text: text, error: sentence, context: context, status: .unprocessableContent).response
        }
        let audit = context.panel.audit("bot.synonyms_changed", details: ["count": String(list.count)])
        try await tenants.withTenant(tenant, logger: context.logger) { connection in
            if try await knowledge.replaceSynonyms(list, on: connection) { try await auditLog.record(audit, on: connection) }
        }
        try await sessions.setFlash(Flash(.success, t["bot_synonyms_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botSynonyms.path, type: .normal)
    }

    struct Problem: Error {
        let key: String
        let line: Int
    }

    /// The pairs, or the first line that is not one (or has a side over 60 characters).
    static func parse(_ text: String) -> Result<[Synonym], Problem> {
        var list: [Synonym] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let pairs = try? KnowledgeStore.parseSynonyms(String(line)) else {
                return .failure(Problem(key: "bot_synonyms_invalid", line: index + 1))
            }
            if pairs.contains(where: { $0.word.count > 60 || $0.means.count > 60 }) {
                return .failure(Problem(key: "bot_synonyms_too_long", line: index + 1))
            }
            list += pairs
        }
        return .success(list)
    }

    private func render(
        text: String, error: String? = nil, context: PanelRequestContext, status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let t = panels.texts(context)
        let page = Page(
            text: text, error: error, canEdit: context.panel.allows(.editBotKnowledge),
            builtIn: Synonym.builtIn.map { $0.word + " → " + $0.means },
            builtInCount: (t["bot_synonyms_builtin_count"] ?? "%n").replacingOccurrences(
                of: "%n", with: NumberText.format(Synonym.builtIn.count, language: context.panel.language)))
        return panels.page(
            "pages/bot/synonyms", page, context: context, title: t["nav_bot_synonyms"] ?? "", current: .botSynonyms, status: status)
    }
}

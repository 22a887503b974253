import Foundation
import Hummingbird

/// `/admin`: a shop's dashboard with the figures there are today; on an agency's or the platform's host, the console
/// of shops (`ShopList`).
public struct DashboardController: Sendable {
    let articles: HelpArticleStore
    let users: UserStore
    let plans: PlanStore
    let tokens: OneTimeTokens
    let auditLog: AuditLog
    let shops: ShopList
    let panels: PanelRenderer

    public init(
        articles: HelpArticleStore, users: UserStore, plans: PlanStore, tokens: OneTimeTokens, auditLog: AuditLog, shops: ShopList,
        panels: PanelRenderer
    ) {
        self.articles = articles
        self.users = users
        self.plans = plans
        self.tokens = tokens
        self.auditLog = auditLog
        self.shops = shops
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.home, use: home)
    }

    struct Stat {
        let label: String
        let value: String
        let hint: String
        let href: String?
    }

    struct Links {
        let newArticle = PanelURL.newArticle.path
        let audit = PanelURL.audit.path
        let team = PanelURL.team.path
    }

    struct DashboardPage {
        let stats: [Stat]
        let recent: [AuditLine]
        let hasRecent: Bool
        let canEdit: Bool
        let canInvite: Bool
        let canAudit: Bool
        let greeting: String
        /// The LLM tokens' warning (80 %) or pause (100 %) this month.
        let usage: UsageBanner?
        let links = Links()
    }

    @Sendable func home(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let panel = context.panel
        // The home page is a shop's dashboard or a console of shops (each with its own permission, checked by the route).
        guard let tenant = panel.tenant else { return try await shops.page(request: request, context: context) }
        let language = panel.language
        let t = panels.texts(context)

        async let figures = articles.figures(tenant)
        async let members = users.memberCount(tenantID: tenant.id)
        async let invited = tokens.pendingInvitationCount(tenantID: tenant.id)
        async let usage = plans.messageUsage(tenantID: tenant.id)
        let month = UsageMonth(containing: Date())
        async let tokens = plans.budget(tenantID: tenant.id, month: month)
        var query = AuditQuery(scope: .tenant(tenant.id))
        query.perPage = 8
        // Who signed in and whom the team invited is for those who may read the audit log.
        if !panel.allows(.viewAudit) { query.action = "article." }
        async let recent = auditLog.search(query)
        let (count, lastEdit) = try await figures
        let (memberCount, invitedCount) = (try await members, try await invited)
        let (messages, messageLimit) = try await usage
        let lines = try await recent.records.map { AuditLine($0, t: t, language: language) }

        let stats = [
            Stat(
                label: t["dash_articles"] ?? "", value: NumberText.format(count, language: language),
                hint: lastEdit.map { (t["dash_last_edit"] ?? "") + " " + DateText.dateTime($0, language: language) }
                    ?? (t["dash_no_articles"] ?? ""),
                href: PanelURL.articles.path),
            Stat(
                label: t["dash_team"] ?? "", value: NumberText.format(memberCount, language: language),
                hint: invitedCount > 0
                    ? (t["dash_invited"] ?? "").replacingOccurrences(of: "%n", with: NumberText.format(invitedCount, language: language))
                    : (t["dash_no_invites"] ?? ""),
                href: PanelURL.team.path),
            Stat(
                label: t["dash_messages"] ?? "", value: NumberText.format(messages, language: language),
                hint: messageLimit.map {
                    (t["dash_messages_limit"] ?? "").replacingOccurrences(of: "%n", with: NumberText.format($0, language: language))
                } ?? (t["dash_messages_unlimited"] ?? ""),
                href: nil),
            Stat(
                label: t["dash_status"] ?? "", value: t["status_" + tenant.status.rawValue] ?? tenant.status.rawValue,
                hint: (t["dash_domains"] ?? "") + " " + tenant.domains.joined(separator: ", "), href: nil),
        ]
        let greetingName = panel.user.user.name.isEmpty ? "" : ", " + panel.user.user.name
        let page = DashboardPage(
            stats: stats, recent: lines, hasRecent: !lines.isEmpty, canEdit: panel.allows(.editArticles),
            canInvite: panel.allows(.manageTeam), canAudit: panel.allows(.viewAudit),
            greeting: (t["dash_greeting"] ?? "") + greetingName,
            usage: UsageBanner(
                try await tokens.budget, month: month, t: t, language: language,
                href: panel.allows(PanelURL.usage) ? PanelURL.usage.path : nil))
        return panels.page("pages/panel/dashboard", page, context: context, title: t["nav_dashboard"] ?? "", current: .home)
    }
}

import Foundation
import Hummingbird
import PostgresNIO

/// `/admin`: a tenant's dashboard with the figures there are today; on a partner's or the platform's host, the list of
/// tenants.
public struct DashboardController: Sendable {
    let identity: IdentityServices
    let tenants: TenantDatabase
    let panels: PanelRenderer
    let operators: OperatorController

    public init(identity: IdentityServices, tenants: TenantDatabase, panels: PanelRenderer, operators: OperatorController) {
        self.identity = identity
        self.tenants = tenants
        self.panels = panels
        self.operators = operators
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("", use: home)
    }

    struct Stat {
        let label: String
        let value: String
        let hint: String
        let href: String?
    }

    struct DashboardPage {
        let stats: [Stat]
        let recent: [AuditLine]
        let hasRecent: Bool
        let canEdit: Bool
        let canInvite: Bool
        let canAudit: Bool
        let greeting: String
    }

    @Sendable func home(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        guard case .tenant = context.site else { return try await operators.home(request: request, context: context) }
        let panel = try context.panel(.viewDashboard, request: request)
        guard let tenant = panel.tenant else { throw HTTPError(.notFound) }
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)

        async let articles = articleFigures(tenant)
        async let team = teamFigures(tenant.id)
        async let recent = AuditLog.search(
            {
                var query = AuditQuery(scope: .tenant(tenant.id))
                query.perPage = 8
                // Who signed in and whom the team invited is for those who may read the audit log.
                if !panel.allows(.viewAudit) { query.action = "article." }
                return query
            }(), on: identity.client, logger: identity.logger)
        let (count, lastEdit) = try await articles
        let (members, invited) = try await team
        let lines = try await recent.records.map { AuditLine($0, t: t, language: language) }

        let stats = [
            Stat(
                label: t["dash_articles"] ?? "", value: NumberText.format(count, language: language),
                hint: lastEdit.map { (t["dash_last_edit"] ?? "") + " " + DateText.dateTime($0, language: language) }
                    ?? (t["dash_no_articles"] ?? ""),
                href: "/admin/articles"),
            Stat(
                label: t["dash_team"] ?? "", value: NumberText.format(members, language: language),
                hint: invited > 0
                    ? (t["dash_invited"] ?? "").replacingOccurrences(of: "%n", with: NumberText.format(invited, language: language))
                    : (t["dash_no_invites"] ?? ""),
                href: "/admin/team"),
            Stat(
                label: t["dash_status"] ?? "", value: t["status_" + tenant.status.rawValue] ?? tenant.status.rawValue,
                hint: (t["dash_domains"] ?? "") + " " + tenant.domains.joined(separator: ", "), href: nil),
        ]
        let greetingName = panel.user.user.name.isEmpty ? "" : ", " + panel.user.user.name
        let page = DashboardPage(
            stats: stats, recent: lines, hasRecent: !lines.isEmpty, canEdit: panel.allows(.editArticles),
            canInvite: panel.allows(.manageTeam), canAudit: panel.allows(.viewAudit),
            greeting: (t["dash_greeting"] ?? "") + greetingName)
        return panels.page(
            "pages/admin/dashboard", page, panel: panel, context: context, request: request, title: t["nav_dashboard"] ?? "",
            section: "dashboard")
    }

    /// How many articles the tenant has and when one last changed: one round trip through the tenant door.
    private func articleFigures(_ tenant: TenantRecord) async throws -> (Int, Date?) {
        let rows = try await tenants.read(
            tenant.scope,
            TenantRead(sql: "SELECT count(*)::int, max(updated_at) FROM help_articles", columns: "n int, last timestamptz"))
        for try await (count, last) in rows.decode((Int, Date?).self) { return (count, last) }
        return (0, nil)
    }

    private func teamFigures(_ tenantID: UUID) async throws -> (Int, Int) {
        let rows = try await identity.client.query(
            """
            SELECT (SELECT count(*)::int FROM platform.memberships WHERE tenant_id = \(tenantID)),
                (SELECT count(*)::int FROM platform.one_time_tokens WHERE tenant_id = \(tenantID) AND purpose = 'invite'
                    AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now())
            """, logger: identity.logger)
        for try await (members, invited) in rows.decode((Int, Int).self) { return (members, invited) }
        return (0, 0)
    }
}

/// An audit entry written out for people: "Anna changed the role of bob@… to Admin".
struct AuditLine {
    let when: String
    let actor: String
    let action: String
    let target: String?
    let details: String?
    let address: String
    let tenant: String

    init(_ record: AuditRecord, t: [String: String], language: String) {
        when = DateText.dateTime(record.at, language: language)
        actor = record.actorEmail ?? (t["audit_system"] ?? "")
        action = t["audit_" + record.action.replacingOccurrences(of: ".", with: "_")] ?? record.action
        target = record.target.isEmpty ? nil : record.target
        let details = record.details.sorted { $0.key < $1.key }.map { key, value in
            let shown = key == "role" || key == "from" || key == "to" ? (t["role_" + value] ?? value) : value
            return (t["audit_field_" + key] ?? key) + ": " + shown
        }.joined(separator: " · ")
        self.details = details.isEmpty ? nil : details
        address = record.address ?? ""
        tenant = record.tenantName ?? ""
    }
}

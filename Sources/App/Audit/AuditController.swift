import Foundation
import Hummingbird

/// The audit log: who did what, when, from which address, filterable by kind of action, person and dates.
public struct AuditController: Sendable {
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(auditLog: AuditLog, panels: PanelRenderer) {
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.audit, use: show)
    }

    static let categories = [
        "auth", "team", "article", "tenant", "branding", "domain", "support", "profile", "users", "api_key", "job", "bot", "inbox",
    ]

    struct AuditPage {
        let lines: [AuditLine]
        let empty: Bool
        let categories: [SelectOption]
        let actor: String
        let from: String
        let to: String
        let filtered: Bool
        let showTenant: Bool
        let pager: Pager
        let action = PanelURL.audit.path
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let panel = context.panel
        let language = panel.language
        let t = panels.texts(context)
        let parameters = request.uri.queryParameters
        var query: AuditQuery
        switch panel.site {
        case .tenant(let tenant): query = AuditQuery(scope: .tenant(tenant.id))
        case .partner(let partner): query = AuditQuery(scope: .partner(partner.id))
        case .platform: query = AuditQuery(scope: .platform)
        }
        let category = parameters.get("action").map { String($0) } ?? ""
        if Self.categories.contains(category) { query.action = category + "." }
        let actor = String((parameters.get("actor") ?? "").withoutControlCharacters.trimmingCharacters(in: .whitespaces).prefix(100))
        if !actor.isEmpty { query.actor = actor }
        let from = parameters.get("from").map { String($0) } ?? ""
        let to = parameters.get("to").map { String($0) } ?? ""
        query.from = Self.day(from)
        query.to = Self.day(to).map { $0.addingTimeInterval(86_400) }
        query.page = Pager.requested(request)
        let (records, total) = try await auditLog.search(query)
        var filters = URLComponents()
        filters.queryItems = [("action", category), ("actor", actor), ("from", from), ("to", to)].filter { !$0.1.isEmpty }.map {
            URLQueryItem(name: $0.0, value: $0.1)
        }
        let base = PanelURL.audit.path + "?" + (filters.percentEncodedQuery.map { $0 + "&" } ?? "")
        let page = AuditPage(
            lines: records.map { AuditLine($0, t: t, language: language) }, empty: records.isEmpty,
            categories: [SelectOption(value: "", label: t["audit_all_actions"] ?? "", selected: category.isEmpty)]
                + Self.categories.map { SelectOption(value: $0, label: t["audit_category_" + $0] ?? $0, selected: $0 == category) },
            actor: actor, from: Self.day(from) != nil ? from : "", to: Self.day(to) != nil ? to : "",
            filtered: query.action != nil || query.actor != nil || query.from != nil || query.to != nil,
            showTenant: panel.tenant == nil,
            pager: Pager(page: query.page, perPage: query.perPage, total: total, language: language, t: t) { base + "page=\($0)" })
        return panels.page("pages/audit/list", page, context: context, title: t["nav_audit"] ?? "", current: .audit)
    }

    /// A `YYYY-MM-DD` date as the start of that day in Moscow time; `nil` when empty or malformed.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard text.count == 10, parts.count == 3, (2000...2100).contains(parts[0]), (1...12).contains(parts[1]), (1...31).contains(parts[2])
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow") ?? .gmt
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }
}

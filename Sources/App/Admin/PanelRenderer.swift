import Foundation
import Hummingbird

/// What a panel page shows around its content: navigation by role, the user, breadcrumbs, the flash message.
public struct PanelChrome: Sendable {
    public struct NavItem: Sendable {
        let href: String
        let label: String
        let icon: String
        let current: Bool
    }
    public struct Crumb: Sendable {
        let href: String?
        let label: String
    }
    public struct FlashView: Sendable {
        let message: String
        let isError: Bool
    }
    let siteName: String
    let areaLabel: String
    let userName: String
    let userEmail: String
    let roleLabel: String
    let nav: [NavItem]
    let crumbs: [Crumb]
    let flash: FlashView?
    let publicURL: String?
    /// Shown on every page of a support sign-in.
    let support: String?
}

/// Renders panel pages (`themes/default/panel`) and the sign-in pages (`themes/default/auth`) in the host's branding.
public struct PanelRenderer: Sendable {
    let renderer: Renderer
    let secretKey: SecretKey

    public init(renderer: Renderer, secretKey: SecretKey) {
        self.renderer = renderer
        self.secretKey = secretKey
    }

    var localizer: Localizer { renderer.localizer }

    /// A page inside the panel. `section` marks the current navigation item; `crumbs` are (link, label) pairs before
    /// the page's own title.
    func page(
        _ template: String, _ page: Any, panel: Panel, context: AppRequestContext, request: Request, title: String,
        section: String, crumbs: [(String, String)] = [], status: HTTPResponse.Status = .ok, previewStyle: String = ""
    ) -> HTMLPage {
        let language = context.language(request: request)
        let t = localizer.catalog(language)
        var frame = renderer.frame(branding: panel.site.branding, language: language, nonce: context.nonce, title: title)
        frame.layout = Renderer.themeTemplate("panel", branding: panel.site.branding)
        frame.csrf = panel.user.csrfToken
        frame.extraStyle = previewStyle
        frame.panel = PanelChrome(
            siteName: Self.siteName(panel.site), areaLabel: t[Self.areaKey(panel.site)] ?? "",
            userName: panel.user.user.displayName, userEmail: panel.user.user.email,
            roleLabel: panel.access.role.map { t[$0.textKey] ?? $0.rawValue } ?? "",
            nav: Self.navigation(panel, t: t, current: section),
            crumbs: crumbs.map { PanelChrome.Crumb(href: $0.0, label: $0.1) } + [PanelChrome.Crumb(href: nil, label: title)],
            flash: panel.user.flash.map { PanelChrome.FlashView(message: $0.message, isError: $0.kind == .error) },
            publicURL: panel.tenant != nil ? "/help" : nil,
            support: panel.user.impersonator.map {
                (t["support_banner"] ?? "").replacingOccurrences(of: "%staff", with: $0.email)
                    .replacingOccurrences(of: "%user", with: panel.user.user.email).replacingOccurrences(of: "%reason", with: $0.reason)
                    .replacingOccurrences(of: "%time", with: DateText.dateTime($0.endsAt, language: language))
            })
        return renderer.render(template, page: page, frame: frame, status: status)
    }

    /// A page before sign-in (sign in, forgot, reset, invitation), with the anonymous CSRF token.
    func authPage(
        _ template: String, _ page: Any, context: AppRequestContext, request: Request, titleKey: String,
        status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let language = context.language(request: request)
        let site = context.site ?? .platform
        var frame = renderer.frame(
            branding: site.branding, language: language, nonce: context.nonce, title: localizer.text(titleKey, language))
        frame.layout = Renderer.themeTemplate("auth", branding: site.branding)
        frame.csrf =
            context.identity?.csrfToken
            ?? CSRF.anonymousField(cookie: context.anonymousCSRF ?? "", host: context.host, key: secretKey)
        frame.areaLabel = localizer.text(Self.areaKey(site), language)
        return renderer.render(template, page: page, frame: frame, status: status)
    }

    static func siteName(_ site: Site) -> String {
        switch site {
        case .platform: site.branding.name ?? ""
        case .partner(let partner): partner.resolvedBranding.name ?? partner.name
        case .tenant(let tenant): tenant.name
        }
    }

    static func areaKey(_ site: Site) -> String {
        switch site {
        case .platform: "panel_area_platform"
        case .partner: "panel_area_partner"
        case .tenant: "panel_area_tenant"
        }
    }

    /// The navigation a user sees: only what their role allows on this kind of site.
    static func navigation(_ panel: Panel, t: [String: String], current: String) -> [PanelChrome.NavItem] {
        let items: [(String, String, String, Permission)]
        switch panel.site.kind {
        case .tenant:
            items = [
                ("dashboard", "/admin", "nav_dashboard", .viewDashboard),
                ("articles", "/admin/articles", "nav_articles", .viewArticles),
                ("team", "/admin/team", "nav_team", .viewTeam),
                ("audit", "/admin/audit", "nav_audit", .viewAudit),
                ("branding", "/admin/branding", "nav_branding", .editBranding),
                ("domains", "/admin/domains", "nav_domains", .manageDomains),
                ("api-keys", "/admin/api-keys", "nav_api_keys", .manageAPIKeys),
            ]
        case .partner:
            items = [
                ("tenants", "/admin", "nav_clients", .viewTenants),
                ("branding", "/admin/branding", "nav_branding", .editBranding),
                ("domains", "/admin/domains", "nav_domains", .manageDomains),
                ("audit", "/admin/audit", "nav_audit", .viewAudit),
                ("api-keys", "/admin/api-keys", "nav_api_keys", .manageAPIKeys),
            ]
        case .platform:
            items = [
                ("tenants", "/admin", "nav_overview", .viewPartners),
                ("outbox", "/admin/outbox", "nav_outbox", .viewOutbox),
                ("audit", "/admin/audit", "nav_audit", .viewAudit),
            ]
        }
        var nav = items.filter { panel.allows($0.3) }.map {
            PanelChrome.NavItem(href: $0.1, label: t[$0.2] ?? $0.2, icon: Icons.path($0.0), current: $0.0 == current)
        }
        nav.append(
            PanelChrome.NavItem(
                href: "/admin/profile", label: t["nav_profile"] ?? "", icon: Icons.path("profile"), current: current == "profile"))
        return nav
    }
}

/// One `<option>` of a `<select>` in a panel form.
struct SelectOption: Sendable {
    let value: String
    let label: String
    let selected: Bool
}

/// Outline icons (24×24, stroked), as SVG path data.
enum Icons {
    static func path(_ name: String) -> String {
        switch name {
        case "dashboard": "M4 4h7v7H4zM13 4h7v4h-7zM13 10h7v10h-7zM4 13h7v7H4z"
        case "articles": "M7 3.5h7l4 4v13H7zM14 3.5v4h4M10 12h5M10 15.5h5"
        case "team":
            "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM2.5 20c.6-3.4 3.2-5.5 6.5-5.5s5.9 2.1 6.5 5.5M16 4.3a3.5 3.5 0 0 1 0 6.4M18 14.8c1.8.7 3 2.5 3.5 5.2"
        case "audit": "M12 3.5l7.5 3v5.5c0 4.4-3.1 7.6-7.5 8.5-4.4-.9-7.5-4.1-7.5-8.5V6.5zM8.8 12l2.2 2.2 4.2-4.4"
        case "tenants": "M3.5 9.5 5 4.5h14l1.5 5M3.5 9.5v10h17v-10M3.5 9.5h17M9.5 19.5v-5h5v5"
        case "outbox": "M3.5 6.5h17v11h-17zM3.5 7l8.5 6.5L20.5 7"
        case "profile": "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4.5 20.5c.8-3.8 3.8-6 7.5-6s6.7 2.2 7.5 6"
        case "branding":
            "M12 3.5a8.5 8.5 0 1 0 0 17c1.1 0 1.7-.8 1.7-1.6 0-1.3-1.3-1.6-1.3-2.8 0-.9.7-1.6 1.6-1.6h2.3a3.7 3.7 0 0 0 3.7-3.7C20 6.6 16.4 3.5 12 3.5zM7.5 12.5h.01M9.5 8h.01M14.5 8h.01"
        case "domains":
            "M12 20.5a8.5 8.5 0 1 0 0-17 8.5 8.5 0 0 0 0 17zM3.5 12h17M12 3.5c2.2 2.3 3.3 5.2 3.3 8.5s-1.1 6.2-3.3 8.5c-2.2-2.3-3.3-5.2-3.3-8.5S9.8 5.8 12 3.5z"
        case "api-keys": "M8.5 16a4.5 4.5 0 1 1 4.2-6h7.8v3h-2v2.5h-3V13h-2.8a4.5 4.5 0 0 1-4.2 3zM7.5 11.5h.01"
        default: ""
        }
    }
}

/// Page-number pagination: which rows to show and the links around them.
public struct Pager: Sendable {
    let page: Int
    let pages: Int
    let previous: String?
    let next: String?
    let summary: String
    let show: Bool

    /// `link` builds the URL of a page number (keeping the page's filters).
    init(page: Int, perPage: Int, total: Int, language: String, t: [String: String], link: (Int) -> String) {
        let pages = max(1, (total + perPage - 1) / perPage)
        let page = min(max(page, 1), pages)
        self.page = page
        self.pages = pages
        previous = page > 1 ? link(page - 1) : nil
        next = page < pages ? link(page + 1) : nil
        let first = total == 0 ? 0 : (page - 1) * perPage + 1
        let last = min(total, page * perPage)
        summary = (t["pager_summary"] ?? "%1–%2 / %3")
            .replacingOccurrences(of: "%1", with: NumberText.format(first, language: language))
            .replacingOccurrences(of: "%2", with: NumberText.format(last, language: language))
            .replacingOccurrences(of: "%3", with: NumberText.format(total, language: language))
        show = pages > 1
    }

    /// The page number asked for in `?page=`.
    static func requested(_ request: Request) -> Int {
        max(1, min(100_000, Int(request.uri.queryParameters.get("page") ?? "") ?? 1))
    }
}

/// Numbers written the way the page's language writes them: 12 345 in Russian, 12,345 in English.
enum NumberText {
    static func format(_ value: Int, language: String) -> String {
        let digits = String(abs(value))
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        let separator = language == "en" ? "," : "\u{202F}"
        return (value < 0 ? "−" : "") + groups.joined(separator: separator)
    }
}

extension DateText {
    /// A date and time in Moscow time, in the page's language: "25 ноября 2026, 21:19" or "Nov 25, 2026, 21:19".
    static func dateTime(_ date: Date, language: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow") ?? .gmt
        let parts = calendar.dateComponents([.day, .month, .year, .hour, .minute], from: date)
        let time = String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
        return long(date, language: language).replacingOccurrences(of: " г.", with: "") + ", " + time
    }
}

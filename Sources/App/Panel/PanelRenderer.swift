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

/// Renders panel pages (`themes/<theme>/panel`) and the sign-in pages (`themes/<theme>/auth`) in the host's branding.
public struct PanelRenderer: Sendable {
    let renderer: Renderer
    let secretKey: SecretKey

    public init(renderer: Renderer, secretKey: SecretKey) {
        self.renderer = renderer
        self.secretKey = secretKey
    }

    var localizer: Localizer { renderer.localizer }

    /// The interface texts in the panel's language.
    func texts(_ context: PanelRequestContext) -> [String: String] { localizer.catalog(context.panel.language) }

    /// A page inside the panel. `current` is the page's address (its navigation item is marked current); `crumbs` are
    /// the pages before it.
    func page(
        _ template: String, _ page: Any, context: PanelRequestContext, title: String, current: PanelURL,
        crumbs: [(PanelURL, String)] = [], status: HTTPResponse.Status = .ok, previewStyle: String = ""
    ) -> HTMLPage {
        let panel = context.panel
        let language = panel.language
        let t = localizer.catalog(language)
        var frame = renderer.frame(branding: panel.site.branding, language: language, nonce: context.nonce, title: title)
        frame.layout = Renderer.themeTemplate("panel", branding: panel.site.branding)
        frame.csrf = panel.user.csrfToken
        frame.extraStyle = previewStyle
        frame.panel = PanelChrome(
            siteName: Self.siteName(panel.site), areaLabel: t[Self.areaKey(panel.site)] ?? "",
            userName: panel.user.user.displayName, userEmail: panel.user.user.email,
            roleLabel: panel.access.role.map { t[$0.textKey] ?? $0.rawValue } ?? "",
            nav: Self.navigation(panel, t: t, current: current.section),
            crumbs: crumbs.map { PanelChrome.Crumb(href: $0.0.path, label: $0.1) } + [PanelChrome.Crumb(href: nil, label: title)],
            flash: panel.user.flash.map { PanelChrome.FlashView(message: $0.message, isError: $0.kind == .error) },
            publicURL: panel.tenant != nil ? SiteURL.help.path : nil,
            support: panel.user.impersonator.map {
                (t["support_banner"] ?? "").replacingOccurrences(of: "%staff", with: $0.email)
                    .replacingOccurrences(of: "%user", with: panel.user.user.email).replacingOccurrences(of: "%reason", with: $0.reason)
                    .replacingOccurrences(of: "%time", with: DateText.dateTime($0.endsAt, language: language))
            })
        return renderer.render(template, page: page, frame: frame, status: status)
    }

    /// A page before sign-in (sign in, forgot, reset, invitation), with the anonymous CSRF token.
    func authPage(
        _ template: String, _ page: Any, context: AppRequestContext, titleKey: String, status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let language = context.panelLanguage
        let site = context.site ?? .platform(PlatformRecord())
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

    /// The navigation a user sees: the pages of this kind of panel (from `PanelURL`) that their role reaches.
    static func navigation(_ panel: Panel, t: [String: String], current: PanelURL) -> [PanelChrome.NavItem] {
        PanelURL.navigation(for: panel.site.kind).filter { panel.allows($0) }.map { url in
            let item = url.navigationItem(on: panel.site.kind)
            return PanelChrome.NavItem(
                href: url.path, label: t[item.label] ?? item.label, icon: Icons.path(item.icon), current: url == current)
        }
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
        case "bot": "M5 7.5h14v10H9l-4 3zM9 11.5h.01M15 11.5h.01M12 3.5v4"
        case "bot-settings": "M4 7h10M18 7h2M4 17h4M12 17h8M16 5v4M10 15v4"
        case "inbox": "M4 13.5 6.6 5h10.8l2.6 8.5V19H4zM4 13.5h4.6l1.4 2.4h4l1.4-2.4H20"
        case "faq": "M12 20.5a8.5 8.5 0 1 0 0-17 8.5 8.5 0 0 0 0 17zM9.6 9.5a2.5 2.5 0 1 1 3.4 2.3c-.6.3-1 .8-1 1.5v.7M12 17h.01"
        case "synonyms": "M4 8h12l-3-3M20 16H8l3 3"
        case "templates": "M4.5 5h15v10h-9l-4 3.5V15h-2zM8 9h8M8 12h5"
        case "rules": "M6 4.5v15M6 7h9l-2 3 2 3H6"
        case "channels": "M4 6.5h11v7H8.5L5.5 16v-2.5H4zM18 9.5h2v8.5h-1.5V20.5l-3-2.5H10v-2"
        case "team":
            "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM2.5 20c.6-3.4 3.2-5.5 6.5-5.5s5.9 2.1 6.5 5.5M16 4.3a3.5 3.5 0 0 1 0 6.4M18 14.8c1.8.7 3 2.5 3.5 5.2"
        case "audit": "M12 3.5l7.5 3v5.5c0 4.4-3.1 7.6-7.5 8.5-4.4-.9-7.5-4.1-7.5-8.5V6.5zM8.8 12l2.2 2.2 4.2-4.4"
        case "tenants": "M3.5 9.5 5 4.5h14l1.5 5M3.5 9.5v10h17v-10M3.5 9.5h17M9.5 19.5v-5h5v5"
        case "outbox": "M3.5 6.5h17v11h-17zM3.5 7l8.5 6.5L20.5 7"
        case "jobs": "M4 6.5h16M4 12h16M4 17.5h10M18 15.5l2.5 2-2.5 2"
        case "usage": "M4 20h16M6.5 20v-6M11 20V9M15.5 20v-8M20 20V5"
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

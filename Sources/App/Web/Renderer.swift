import Crypto
import Foundation
import Hummingbird
import Synchronization

/// What every page's frame shows: branding, interface text, language, the CSP nonce and asset URLs.
public struct PageFrame: Sendable {
    public var layout: String
    public var lang: String
    public var t: [String: String]
    public var brand: BrandView
    public var nonce: String
    public var title: String
    public var stylesheet: String
    /// The CSRF token for the page's forms (the session's, or the anonymous one before sign-in).
    public var csrf: String = ""
    /// The panel's navigation and user, on panel pages.
    public var panel: PanelChrome?
    /// Which panel a sign-in page belongs to ("Shop panel", …).
    public var areaLabel: String = ""
    /// More CSS for the page's nonce'd style element (the branding editor's preview; validated values only).
    public var extraStyle: String = ""
    /// "Powered by …" with the operator's brand (shown only when the brand turns it on).
    public var poweredBy: String = ""
    /// The addresses every frame links to.
    public var links = PageLinks()
}

/// Addresses the layouts link to, built from `SiteURL` and `PanelURL`.
public struct PageLinks: Sendable {
    public let home = SiteURL.home.path
    public let help = SiteURL.help.path
    public let panel = PanelURL.home.path
    public let login = PanelURL.login.path
    public let logout = PanelURL.logout.path
    public let forgot = PanelURL.forgot.path
    public let reset = PanelURL.reset.path
    public let invite = PanelURL.invite.path
    public let profile = PanelURL.profile.path
}

/// A rendered page: HTML with its status code.
public struct HTMLPage: ResponseGenerator {
    public var html: String
    public var status: HTTPResponse.Status = .ok
    /// Other origins this page's forms may end up on (a POST answered with a redirect to another host); added to the
    /// CSP's `form-action`, which browsers also apply to redirects.
    public var formActionOrigins: [String] = []

    public func response(from request: Request, context: some RequestContext) throws -> Response { response }

    /// The page as a response: HTML, not cached without a check.
    public var response: Response {
        var buffer = ByteBuffer()
        buffer.writeString(html)
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"]
        if !formActionOrigins.isEmpty { headers[.formActionOrigins] = formActionOrigins.joined(separator: " ") }
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }
}

/// Renders pages from `Templates/` inside the layout, with the frame every page needs.
public struct Renderer: Sendable {
    /// Every template a route can ask for; start-up fails when one is missing (it would render nothing).
    public static let requiredTemplates = [
        "themes/default/layout", "pages/help/index", "pages/help/article", "pages/errors/error", "pages/home/platform",
        "pages/home/partner", "themes/default/panel", "themes/default/auth", "themes/topbar/layout", "themes/topbar/panel",
        "themes/topbar/auth", "pages/identity/login", "pages/identity/forgot",
        "pages/identity/reset", "pages/identity/invite", "pages/panel/dashboard", "pages/help/articles", "pages/help/article-form",
        "pages/identity/team", "pages/identity/profile", "pages/audit/list", "pages/tenants/list", "pages/mail/outbox",
        "pages/mail/message", "pages/tenants/new", "pages/branding/edit", "pages/api/keys", "emails/invite-html",
        "emails/reset-html", "pages/widget/frame", "pages/inbox/list", "pages/inbox/conversation", "pages/inbox/message",
        "pages/inbox/header", "pages/inbox/settings", "pages/inbox/contact-delete", "pages/plans/usage", "pages/plans/shops",
        "emails/usage-warning-html",
    ]
    /// `themes/<theme>/<name>` for the brand's theme (the default theme when it names none or an unknown one).
    static func themeTemplate(_ name: String, branding: Branding) -> String {
        let theme = branding.theme.flatMap { Branding.themes.contains($0) ? $0 : nil } ?? "default"
        return "themes/\(theme)/\(name)"
    }

    /// Plain-text templates (e-mail text parts): they must not escape HTML.
    public static let textTemplates = ["emails/invite-text", "emails/reset-text", "emails/usage-warning-text"]

    let library: TemplateLibrary
    public let localizer: Localizer
    let stylesheet: String
    private let brands = BrandViews()

    public init(templatesFolder: String, publicFolder: String) async throws {
        do {
            library = try TemplateLibrary(directory: templatesFolder)
        } catch let error as TemplateError {
            throw ConfigurationError.message(error.description)
        }
        for name in Self.requiredTemplates + Self.textTemplates where library.template(named: name) == nil {
            throw ConfigurationError.message("Template \(templatesFolder)/\(name).mustache is missing.")
        }
        // A page that turned escaping off would let any value write HTML; a text part rendered with HTML escaping
        // would show "&amp;" to its reader.
        for name in Self.requiredTemplates {
            let text = (try? String(contentsOfFile: "\(templatesFolder)/\(name).mustache", encoding: .utf8)) ?? ""
            guard !text.contains("CONTENT_TYPE: TEXT") else {
                throw ConfigurationError.message(
                    "Template \(templatesFolder)/\(name).mustache is HTML: it must not say {{% CONTENT_TYPE: TEXT}}.")
            }
        }
        for name in Self.textTemplates {
            let text = (try? String(contentsOfFile: "\(templatesFolder)/\(name).mustache", encoding: .utf8)) ?? ""
            guard text.hasPrefix("{{% CONTENT_TYPE: TEXT}}") else {
                throw ConfigurationError.message("Template \(templatesFolder)/\(name).mustache must start with {{% CONTENT_TYPE: TEXT}}.")
            }
        }
        localizer = try Localizer(folder: templatesFolder + "/locales")
        // A content hash in the stylesheet's URL lets browsers cache it for a year.
        let css = (try? Data(contentsOf: URL(fileURLWithPath: publicFolder + "/static/css/app.css"))) ?? Data()
        stylesheet = "/static/css/app.css?v=" + String(css.hashValueHex.prefix(10))
    }

    /// The frame for a page on a site in a language.
    public func frame(branding: Branding, language: String, nonce: String, title: String) -> PageFrame {
        let t = localizer.catalog(language)
        let brand = brands.view(of: branding)
        var frame = PageFrame(
            layout: Self.themeTemplate("layout", branding: branding), lang: language, t: t, brand: brand, nonce: nonce, title: title,
            stylesheet: stylesheet)
        if brand.poweredBy { frame.poweredBy = (t["powered_by"] ?? "").replacingOccurrences(of: "%platform", with: brand.poweredByName) }
        return frame
    }

    /// Renders `template` with `page` in `frame`.
    public func render(_ template: String, page: Any, frame: PageFrame, status: HTTPResponse.Status = .ok) -> HTMLPage {
        let html = renderTemplate(template, RenderContext(frame: frame, page: page, layout: frame.layout))
        return HTMLPage(html: html, status: status)
    }

    /// `template` rendered with `value` ("" when there is no such template: start-up checked the ones routes use).
    func renderTemplate(_ template: String, _ value: Any) -> String {
        library.render(value, withTemplate: template) ?? ""
    }
}

/// What templates see: `{{frame.…}}`, `{{page.…}}` and `layout`. A class, like `FrameView`: a look-up hands out a
/// reference instead of copying a struct of many fields into a new box each time.
final class RenderContext {
    let frame: FrameView
    let page: Any?
    /// `page` as a `TemplateParent`, when it is one (cast once per page, not per look-up).
    let pageParent: (any TemplateParent)?
    /// The theme's layout, chosen per request with `{{<*layout}}`.
    let layout: String

    init(frame: PageFrame, page: Any?, layout: String) {
        self.frame = FrameView(frame)
        // Unwrapped once here: look-ups take a `TemplateParent`'s values as they are.
        self.page = TemplateLibrary.unwrapped(page)
        pageParent = self.page as? any TemplateParent
        self.layout = layout
    }
}

/// The frame as templates read it, its larger parts boxed once per page.
final class FrameView {
    let frame: PageFrame
    let brand: TemplateBox<BrandView>
    let links: TemplateBox<PageLinks>
    let panel: TemplateBox<PanelChrome>?

    init(_ frame: PageFrame) {
        self.frame = frame
        brand = TemplateBox(frame.brand)
        links = TemplateBox(frame.links)
        panel = frame.panel.map(TemplateBox.init)
    }
}

/// A reference to a value templates read, so that passing it around copies a pointer.
final class TemplateBox<Value: TemplateParent>: TemplateParent {
    let value: Value
    init(_ value: Value) { self.value = value }
    func child(named name: String) -> Any? { value.child(named: name) }
    func parent(named name: String) -> (any TemplateParent)? { value.parent(named: name) }
}

extension Data {
    /// Hex SHA-256 of the bytes.
    var hashValueHex: String {
        Crypto.SHA256.hash(data: self).map { String(format: "%02x", $0) }.joined()
    }
}

/// Brand views already derived (colour shades, the drawn icon, the custom CSS's version), by branding: a site's
/// branding changes rarely and every page needs its view. At most `capacity` (each entry holds its branding, custom
/// CSS included: up to about 20 KB); when full, an arbitrary entry makes room.
final class BrandViews: Sendable {
    private let views = Mutex<[Branding: BrandView]>([:])
    static let capacity = 512

    func view(of branding: Branding) -> BrandView {
        if let view = views.withLock({ $0[branding] }) { return view }
        let view = BrandView(branding)
        views.withLock { views in
            if views.count >= Self.capacity { views.remove(at: views.startIndex) }
            views[branding] = view
        }
        return view
    }
}

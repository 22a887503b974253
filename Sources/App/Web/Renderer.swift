import Crypto
import Foundation
import Hummingbird
import Mustache

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
}

/// Branding in the shape templates use, with the colours derived from the primary one.
public struct BrandView: Sendable {
    public var name: String
    public var initial: String
    public var logoURL: String?
    /// The logo for coloured and dark backgrounds (the topbar theme's header and sign-in side), when the brand has one;
    /// without it, themes show the ordinary logo on a white plate.
    public var logoOnDarkURL: String?
    public var primary: String
    public var primaryDark: String
    public var primarySoft: String
    public var onPrimary: String
    public var accent: String
    public var onAccent: String
    public var font: String
    /// The brand's icon, or one drawn from its initial and colour (never the platform's).
    public var favicon: String
    /// `/brand.css?v=<hash>` when the brand has custom CSS.
    public var customStylesheet: String?
    public var poweredBy: Bool
    public var supportURL: String?
    public var supportEmail: String?
    public var termsURL: String?
    public var privacyURL: String?
    public var hasLinks: Bool

    public init(_ branding: Branding) {
        name = branding.name ?? "Vitrina"
        initial = String(name.first.map { String($0).uppercased() } ?? "V")
        logoURL = branding.logoURL
        logoOnDarkURL = branding.logoDarkURL
        let color = RGB(hex: branding.primaryColor ?? "") ?? RGB(hex: Branding.platformDefault.primaryColor!)!
        primary = color.hex
        // Darker shade for hovers and for links on white: at least 18 % darker, and dark enough for WCAG AA (4.5:1).
        var dark = color.mixed(with: RGB(r: 0, g: 0, b: 0), amount: 0.18)
        while dark.contrast(with: RGB(r: 255, g: 255, b: 255)) < 4.5 { dark = dark.mixed(with: RGB(r: 0, g: 0, b: 0), amount: 0.1) }
        primaryDark = dark.hex
        primarySoft = color.mixed(with: RGB(r: 255, g: 255, b: 255), amount: 0.9).hex
        onPrimary = color.relativeLuminance > 0.45 ? "#111827" : "#ffffff"
        let accentColor = RGB(hex: branding.accentColor ?? "") ?? dark
        accent = accentColor.hex
        onAccent = accentColor.relativeLuminance > 0.45 ? "#111827" : "#ffffff"
        font = Branding.fonts[branding.font ?? "system"] ?? Branding.fonts["system"]!
        favicon = branding.faviconURL ?? Self.drawnIcon(initial: initial, background: color.hex, foreground: onPrimary)
        customStylesheet = branding.customCSS.map { "/brand.css?v=" + CustomCSS.version($0) }
        poweredBy = branding.poweredBy ?? true
        supportURL = branding.supportURL
        supportEmail = branding.supportEmail
        termsURL = branding.termsURL
        privacyURL = branding.privacyURL
        hasLinks = supportURL != nil || supportEmail != nil || termsURL != nil || privacyURL != nil
    }

    /// An SVG icon with the brand's initial on its colour, as a data URL.
    static func drawnIcon(initial: String, background: String, foreground: String) -> String {
        let letter = initial.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) } ? initial : "•"
        let svg =
            "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='7' fill='\(background)'/>"
            + "<text x='16' y='22.5' font-family='Arial,sans-serif' font-size='19' font-weight='700' text-anchor='middle' fill='\(foreground)'>\(letter)</text></svg>"
        return "data:image/svg+xml," + (svg.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
    }

    /// Where the colours fall short of WCAG AA, as interface-text keys (the branding editor and `tenants apply` warn).
    public static func contrastWarnings(_ branding: Branding) -> [String] {
        var warnings: [String] = []
        let white = RGB(r: 255, g: 255, b: 255)
        if let primary = RGB(hex: branding.primaryColor ?? "") {
            let text = primary.relativeLuminance > 0.45 ? RGB(r: 17, g: 24, b: 39) : white
            if primary.contrast(with: text) < 4.5 { warnings.append("brand_warning_primary_text") }
            if primary.contrast(with: white) < 3 { warnings.append("brand_warning_primary_on_white") }
        }
        if let accent = RGB(hex: branding.accentColor ?? ""), accent.contrast(with: white) < 3 {
            warnings.append("brand_warning_accent_on_white")
        }
        return warnings
    }
}

/// An sRGB colour, for deriving shades.
struct RGB {
    var r: Double, g: Double, b: Double

    init(r: Double, g: Double, b: Double) {
        self.r = r
        self.g = g
        self.b = b
    }

    init?(hex: String) {
        guard Branding.isValidColor(hex), let value = UInt32(hex.dropFirst(), radix: 16) else { return nil }
        r = Double((value >> 16) & 0xFF)
        g = Double((value >> 8) & 0xFF)
        b = Double(value & 0xFF)
    }

    var hex: String {
        String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    }

    func mixed(with other: RGB, amount: Double) -> RGB {
        RGB(r: r + (other.r - r) * amount, g: g + (other.g - g) * amount, b: b + (other.b - b) * amount)
    }

    /// WCAG contrast ratio between two colours (1 to 21).
    func contrast(with other: RGB) -> Double {
        let (a, b) = (relativeLuminance, other.relativeLuminance)
        return (max(a, b) + 0.05) / (min(a, b) + 0.05)
    }

    /// WCAG relative luminance.
    var relativeLuminance: Double {
        func channel(_ c: Double) -> Double {
            let s = c / 255
            return s <= 0.03928 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }
}

/// A rendered page: HTML with its status code.
public struct HTMLPage: ResponseGenerator {
    public var html: String
    public var status: HTTPResponse.Status = .ok
    /// Other origins this page's forms may end up on (a POST answered with a redirect to another host); added to the
    /// CSP's `form-action`, which browsers also apply to redirects.
    public var formActionOrigins: [String] = []

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(html)
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"]
        if !formActionOrigins.isEmpty { headers[.formActionOrigins] = formActionOrigins.joined(separator: " ") }
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }
}

/// Renders pages from `Templates/` inside the layout, with the frame every page needs.
public struct Renderer: Sendable {
    /// Every template a route can ask for; start-up fails when one is missing (Mustache would render nothing).
    public static let requiredTemplates = [
        "themes/default/layout", "pages/help/index", "pages/help/article", "pages/errors/error", "pages/platform/home",
        "pages/partner/home", "themes/default/panel", "themes/default/auth", "themes/topbar/layout", "themes/topbar/panel",
        "themes/topbar/auth", "pages/auth/login", "pages/auth/forgot",
        "pages/auth/reset", "pages/auth/invite", "pages/admin/dashboard", "pages/admin/articles", "pages/admin/article-form",
        "pages/admin/team", "pages/admin/profile", "pages/admin/audit", "pages/admin/tenants", "pages/admin/outbox",
        "pages/admin/outbox-message", "pages/admin/tenant-new", "pages/admin/branding", "pages/admin/api-keys", "emails/invite-html",
        "emails/reset-html",
    ]
    /// `themes/<theme>/<name>` for the brand's theme (the default theme when it names none or an unknown one).
    static func themeTemplate(_ name: String, branding: Branding) -> String {
        let theme = branding.theme.flatMap { Branding.themes.contains($0) ? $0 : nil } ?? "default"
        return "themes/\(theme)/\(name)"
    }

    /// Plain-text templates (e-mail text parts): they must not escape HTML.
    public static let textTemplates = ["emails/invite-text", "emails/reset-text"]

    let library: MustacheLibrary
    public let localizer: Localizer
    let stylesheet: String

    public init(templatesFolder: String, publicFolder: String) async throws {
        // Templates opt into the fast escaper with `{{% CONTENT_TYPE: VITRINA_HTML}}`; it must exist before parsing.
        MustacheContentTypes.register(FastHTMLContentType(), named: FastHTMLContentType.name)
        do {
            library = try await MustacheLibrary(directory: templatesFolder)
        } catch let error as MustacheLibrary.ParserError {
            throw ConfigurationError.message("Template \(error.filename) line \(error.context.lineNumber): \(error.error)")
        }
        for name in Self.requiredTemplates + Self.textTemplates where library.getTemplate(named: name) == nil {
            throw ConfigurationError.message("Template \(templatesFolder)/\(name).mustache is missing.")
        }
        for name in Self.requiredTemplates {
            let text = (try? String(contentsOfFile: "\(templatesFolder)/\(name).mustache", encoding: .utf8)) ?? ""
            guard text.hasPrefix("{{% CONTENT_TYPE: \(FastHTMLContentType.name)}}") else {
                throw ConfigurationError.message(
                    "Template \(templatesFolder)/\(name).mustache must start with {{% CONTENT_TYPE: \(FastHTMLContentType.name)}}.")
            }
        }
        localizer = try Localizer(folder: templatesFolder + "/locales")
        // A content hash in the stylesheet's URL lets browsers cache it for a year.
        let css = (try? Data(contentsOf: URL(fileURLWithPath: publicFolder + "/static/css/app.css"))) ?? Data()
        stylesheet = "/static/css/app.css?v=" + String(css.hashValueHex.prefix(10))
    }

    /// The frame for a page on a site in a language.
    public func frame(branding: Branding, language: String, nonce: String, title: String) -> PageFrame {
        PageFrame(
            layout: Self.themeTemplate("layout", branding: branding), lang: language, t: localizer.catalog(language),
            brand: BrandView(branding),
            nonce: nonce, title: title, stylesheet: stylesheet)
    }

    /// Renders `template` with `page` in `frame`.
    public func render(_ template: String, page: Any, frame: PageFrame, status: HTTPResponse.Status = .ok) -> HTMLPage {
        let html = library.render(RenderContext(frame: frame, page: page, layout: frame.layout), withTemplate: template) ?? ""
        return HTMLPage(html: html, status: status)
    }
}

/// What templates see: `{{frame.…}}`, `{{page.…}}` and `layout`.
struct RenderContext {
    let frame: PageFrame
    let page: Any
    /// The theme's layout, chosen per request with `{{<*layout}}` (stored: Mustache sees stored properties only).
    let layout: String
}

extension Data {
    /// Hex SHA-256 of the bytes.
    var hashValueHex: String {
        Crypto.SHA256.hash(data: self).map { String(format: "%02x", $0) }.joined()
    }
}

import Foundation

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
    /// The operator's brand, which "powered by" names.
    public var poweredByName: String
    public var supportURL: String?
    public var supportEmail: String?
    public var termsURL: String?
    public var privacyURL: String?
    public var hasLinks: Bool

    public init(_ branding: Branding) {
        name = branding.name ?? Branding.productDefault.name ?? ""
        initial = name.first.map { String($0).uppercased() } ?? "•"
        logoURL = branding.logoURL
        logoOnDarkURL = branding.logoDarkURL
        let color = RGB(hex: branding.primaryColor ?? "") ?? RGB(hex: Branding.productDefault.primaryColor!)!
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
        customStylesheet = branding.customCSS.map { SiteURL.brandStylesheet.path + "?v=" + CustomCSS.version($0) }
        // Fail closed: a brand that never said "powered by" does not show it.
        poweredBy = branding.poweredBy ?? false
        poweredByName = branding.poweredByName ?? Branding.productDefault.name ?? ""
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

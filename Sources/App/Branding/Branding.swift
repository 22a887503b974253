import Foundation
import Synchronization

/// What pages and e-mails look like for a host: product name, logos, colours, font, custom CSS, support and legal
/// links, the e-mail sender, the default language, and (partner level) "powered by" and whether tenants may rebrand.
///
/// Stored per partner and per tenant as JSON holding only the fields that level sets; resolution layers a tenant over
/// its partner over the platform's defaults, each level overriding only what it sets.
public struct Branding: Sendable, Codable, Hashable {
    public var name: String?
    public var primaryColor: String?
    public var accentColor: String?
    public var logoURL: String?
    public var logoDarkURL: String?
    public var faviconURL: String?
    public var font: String?
    public var customCSS: String?
    public var supportEmail: String?
    public var supportURL: String?
    public var termsURL: String?
    public var privacyURL: String?
    public var emailFromName: String?
    public var emailFromAddress: String?
    public var defaultLanguage: String?
    /// Partner level only: show "powered by" the platform. Off unless the partner turns it on: a partner's clients
    /// never learn which platform runs their panel unless the partner wants them to.
    public var poweredBy: Bool?
    /// Partner level only: whether the partner's tenants may set their own branding.
    public var allowTenantBranding: Bool?
    /// Partner level only: the named theme (`Templates/themes/<name>/`) that frames its panels and its shops' pages.
    public var theme: String?
    /// The name "powered by" shows: the operator's brand, filled in by resolution (never stored).
    public var poweredByName: String? = nil

    public init(
        name: String? = nil, primaryColor: String? = nil, logoURL: String? = nil, defaultLanguage: String? = nil,
        accentColor: String? = nil, logoDarkURL: String? = nil, faviconURL: String? = nil, font: String? = nil,
        customCSS: String? = nil, supportEmail: String? = nil, supportURL: String? = nil, termsURL: String? = nil,
        privacyURL: String? = nil, emailFromName: String? = nil, emailFromAddress: String? = nil, poweredBy: Bool? = nil,
        allowTenantBranding: Bool? = nil, theme: String? = nil
    ) {
        self.name = name
        self.primaryColor = primaryColor
        self.logoURL = logoURL
        self.defaultLanguage = defaultLanguage
        self.accentColor = accentColor
        self.logoDarkURL = logoDarkURL
        self.faviconURL = faviconURL
        self.font = font
        self.customCSS = customCSS
        self.supportEmail = supportEmail
        self.supportURL = supportURL
        self.termsURL = termsURL
        self.privacyURL = privacyURL
        self.emailFromName = emailFromName
        self.emailFromAddress = emailFromAddress
        self.poweredBy = poweredBy
        self.allowTenantBranding = allowTenantBranding
        self.theme = theme
    }

    enum CodingKeys: String, CodingKey {
        case name
        case primaryColor = "primary_color"
        case accentColor = "accent_color"
        case logoURL = "logo_url"
        case logoDarkURL = "logo_dark_url"
        case faviconURL = "favicon_url"
        case font
        case customCSS = "custom_css"
        case supportEmail = "support_email"
        case supportURL = "support_url"
        case termsURL = "terms_url"
        case privacyURL = "privacy_url"
        case emailFromName = "email_from_name"
        case emailFromAddress = "email_from_address"
        case defaultLanguage = "default_language"
        case poweredBy = "powered_by"
        case allowTenantBranding = "allow_tenant_branding"
        case theme
    }

    /// The product's own defaults, under everything else. Its name shows only where the operator set none.
    public static let productDefault = Branding(
        name: "Vitrina", primaryColor: "#4F46E5", logoURL: nil, defaultLanguage: "ru", poweredBy: false, allowTenantBranding: true)

    /// This level's settings over `base`'s, field by field.
    public func resolved(over base: Branding) -> Branding {
        var resolved = Branding(
            name: name ?? base.name, primaryColor: primaryColor ?? base.primaryColor, logoURL: logoURL ?? base.logoURL,
            defaultLanguage: defaultLanguage ?? base.defaultLanguage, accentColor: accentColor ?? base.accentColor,
            logoDarkURL: logoDarkURL ?? base.logoDarkURL, faviconURL: faviconURL ?? base.faviconURL, font: font ?? base.font,
            customCSS: [base.customCSS, customCSS].compactMap { $0 }.joined(separator: "\n").nilIfEmpty,
            supportEmail: supportEmail ?? base.supportEmail, supportURL: supportURL ?? base.supportURL,
            termsURL: termsURL ?? base.termsURL, privacyURL: privacyURL ?? base.privacyURL,
            emailFromName: emailFromName ?? base.emailFromName, emailFromAddress: emailFromAddress ?? base.emailFromAddress,
            poweredBy: poweredBy ?? base.poweredBy, allowTenantBranding: allowTenantBranding ?? base.allowTenantBranding,
            theme: theme ?? base.theme)
        resolved.poweredByName = poweredByName ?? base.poweredByName
        return resolved
    }

    /// The installation's own brand: the operator's settings over the product's defaults. "Powered by" never shows
    /// on the platform's own pages.
    public static func forPlatform(_ branding: Branding) -> Branding {
        var resolved = branding.resolved(over: productDefault)
        resolved.poweredBy = false
        resolved.poweredByName = resolved.name
        return resolved
    }

    /// A partner's branding as its panel and its tenants see it: over the product's defaults (never the operator's
    /// name, logo or links: a partner's clients see only the partner), with the partner's own name when it sets none.
    /// `platform` (the operator's resolved brand) names what "powered by" shows, when the partner turns it on.
    public static func forPartner(_ branding: Branding, partnerName: String, platform: Branding = forPlatform(Branding())) -> Branding {
        var base = productDefault
        base.name = partnerName
        base.poweredByName = platform.name
        return branding.resolved(over: base)
    }

    /// A tenant's branding over its partner's (already resolved). A partner that does not allow its tenants to rebrand
    /// keeps its look; only the tenant's default language still applies. `powered_by` and `allow_tenant_branding` are
    /// the partner's choices: a tenant cannot change them. The name is the shop's own (its branding's, else
    /// `shopName`), never the agency's product name.
    public static func forTenant(_ tenant: Branding, partner: Branding, shopName: String? = nil) -> Branding {
        var resolved: Branding
        if partner.allowTenantBranding == false {
            resolved = partner
            resolved.defaultLanguage = tenant.defaultLanguage ?? partner.defaultLanguage
        } else {
            resolved = tenant.resolved(over: partner)
        }
        resolved.poweredBy = partner.poweredBy
        resolved.allowTenantBranding = partner.allowTenantBranding
        resolved.theme = partner.theme
        if let name = tenant.name ?? shopName { resolved.name = name }
        return resolved
    }

    /// JSON for the `branding` column (only the fields that are set).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func fromJSON(_ text: String) -> Branding {
        (try? JSONDecoder().decode(Branding.self, from: Data(text.utf8))) ?? Branding()
    }

    /// `#RRGGBB`, the only colour syntax accepted (it goes into CSS).
    public static func isValidColor(_ value: String) -> Bool {
        let utf8 = Array(value.utf8)
        return utf8.count == 7 && utf8[0] == UInt8(ascii: "#") && utf8[1...].allSatisfy { $0.isHexDigit }
    }

    /// A path under `/static/`, an uploaded image (`/brand-assets/…`) or an https URL, without characters that could
    /// break out of an attribute.
    public static func isValidLogoURL(_ value: String) -> Bool {
        guard value.count <= 500, !value.contains(where: { $0 == "\"" || $0 == "'" || $0 == "<" || $0 == ">" || $0.isWhitespace })
        else { return false }
        if value.hasPrefix(SiteURL.staticPrefix) || value.hasPrefix(SiteURL.brandAssetPrefix) { return !value.contains("..") }
        return isValidHTTPSURL(value)
    }

    /// An absolute https URL without characters that could break out of an attribute.
    public static func isValidHTTPSURL(_ value: String) -> Bool {
        guard value.count <= 500, !value.contains(where: { $0 == "\"" || $0 == "'" || $0 == "<" || $0 == ">" || $0.isWhitespace }),
            let url = URL(string: value), url.scheme == "https", url.host != nil
        else { return false }
        return true
    }

    public static let languages = ["ru", "en"]

    /// The themes shipped in `Templates/themes/` (each has `layout`, `panel` and `auth`; checked at start-up).
    public static let themes = ["default", "topbar"]

    /// The fonts a brand may choose: CSS stacks of fonts found on the systems people use, so nothing is downloaded.
    /// Family names are unquoted (valid CSS for names made of words): quotes would be HTML-escaped in the page's style.
    public static let fonts: [String: String] = [
        "system":
            "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, Noto Sans, Liberation Sans, sans-serif",
        "humanist": "Seravek, Gill Sans Nova, Ubuntu, Calibri, DejaVu Sans, source-sans-pro, sans-serif",
        "geometric": "Avenir, Montserrat, Corbel, URW Gothic, source-sans-pro, sans-serif",
        "rounded": "ui-rounded, Hiragino Maru Gothic ProN, Quicksand, Comfortaa, Manjari, Arial Rounded MT, Calibri, sans-serif",
        "serif": "Charter, Bitstream Charter, Sitka Text, Cambria, Georgia, DejaVu Serif, serif",
    ]
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

extension UInt8 {
    var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}

/// Brandings decoded from their stored JSON, by the text: pages that read the branding fresh with their rows decode
/// the same few hundred bytes on every request otherwise. At most `capacity` (custom CSS makes an entry up to about
/// 40 KB); when full, an arbitrary entry makes room.
final class DecodedBrandings: Sendable {
    private let decoded = Mutex<[String: Branding]>([:])
    static let capacity = 256

    func branding(fromJSON text: String) -> Branding {
        if let branding = decoded.withLock({ $0[text] }) { return branding }
        let branding = Branding.fromJSON(text)
        decoded.withLock { decoded in
            if decoded.count >= Self.capacity { decoded.remove(at: decoded.startIndex) }
            decoded[text] = branding
        }
        return branding
    }
}

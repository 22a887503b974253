import Foundation

/// What a page looks like for a host: product name, colour, logo, default language.
///
/// Stored per partner and per tenant as JSON holding only the fields that level sets; `resolved(over:)` layers a
/// tenant over its partner over the platform's defaults.
public struct Branding: Sendable, Codable, Equatable {
    public var name: String?
    public var primaryColor: String?
    public var logoURL: String?
    public var defaultLanguage: String?

    public init(name: String? = nil, primaryColor: String? = nil, logoURL: String? = nil, defaultLanguage: String? = nil) {
        self.name = name
        self.primaryColor = primaryColor
        self.logoURL = logoURL
        self.defaultLanguage = defaultLanguage
    }

    enum CodingKeys: String, CodingKey {
        case name
        case primaryColor = "primary_color"
        case logoURL = "logo_url"
        case defaultLanguage = "default_language"
    }

    /// The platform's own look, under everything else.
    public static let platformDefault = Branding(name: "Vitrina", primaryColor: "#4F46E5", logoURL: nil, defaultLanguage: "ru")

    /// This level's settings over `base`'s.
    public func resolved(over base: Branding) -> Branding {
        Branding(
            name: name ?? base.name, primaryColor: primaryColor ?? base.primaryColor, logoURL: logoURL ?? base.logoURL,
            defaultLanguage: defaultLanguage ?? base.defaultLanguage)
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

    /// A path under `/static/` or an https URL, without characters that could break out of an attribute.
    public static func isValidLogoURL(_ value: String) -> Bool {
        guard value.count <= 500, !value.contains(where: { $0 == "\"" || $0 == "'" || $0 == "<" || $0 == ">" || $0.isWhitespace })
        else { return false }
        if value.hasPrefix("/static/") { return !value.contains("..") }
        guard let url = URL(string: value), url.scheme == "https", url.host != nil else { return false }
        return true
    }

    public static let languages = ["ru", "en"]
}

extension UInt8 {
    var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}

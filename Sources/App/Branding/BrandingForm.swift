import Foundation

/// The branding form's fields (and the API's, which takes the same names): what they may hold and how they become a
/// brand. Shared by the editor and the API, so both refuse the same values with the same words.
enum BrandingForm {
    static let textFields = [
        "name", "primary_color", "accent_color", "logo_url", "logo_dark_url", "favicon_url", "support_email", "support_url", "terms_url",
        "privacy_url",
        "email_from_name", "email_from_address", "custom_css",
    ]

    /// The file fields: which kinds each takes and the address field an upload fills.
    static let uploads: [(field: String, urlField: String, kinds: Set<BrandImage.Kind>)] = [
        ("logo_file", "logo_url", [.png, .svg]), ("logo_dark_file", "logo_dark_url", [.png, .svg]),
        ("favicon_file", "favicon_url", [.png, .svg, .ico]),
    ]

    static func values(of branding: Branding) -> [String: String] {
        [
            "name": branding.name, "primary_color": branding.primaryColor, "accent_color": branding.accentColor,
            "logo_url": branding.logoURL, "logo_dark_url": branding.logoDarkURL,
            "favicon_url": branding.faviconURL, "support_email": branding.supportEmail, "support_url": branding.supportURL,
            "terms_url": branding.termsURL, "privacy_url": branding.privacyURL, "email_from_name": branding.emailFromName,
            "email_from_address": branding.emailFromAddress, "custom_css": branding.customCSS, "font": branding.font,
            "default_language": branding.defaultLanguage, "theme": branding.theme,
        ].compactMapValues { $0 }
    }

    /// The form (or the API's JSON) as a brand, and the fields it refuses (interface-text keys). Empty fields are unset
    /// (inherited). The theme is the agency's and the platform's; `poweredBy` and `allowTenantBranding` count at
    /// agency level only.
    static func parse(
        _ values: [String: String], owner: BrandOwner, poweredBy: Bool?, allowTenantBranding: Bool?
    ) -> (Branding, [String: String]) {
        let partner: Bool
        if case .partner = owner { partner = true } else { partner = false }
        var brand = Branding()
        var errors: [String: String] = [:]
        func value(_ key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let name = value("name") { if name.databaseLength > 100 { errors["name"] = "form_too_long" } else { brand.name = name } }
        for (key, path) in [("primary_color", \Branding.primaryColor), ("accent_color", \Branding.accentColor)] {
            guard let text = value(key) else { continue }
            if Branding.isValidColor(text) { brand[keyPath: path] = text.lowercased() } else { errors[key] = "brand_error_color" }
        }
        for (key, path) in [
            ("logo_url", \Branding.logoURL), ("logo_dark_url", \Branding.logoDarkURL), ("favicon_url", \Branding.faviconURL),
        ] {
            guard let text = value(key) else { continue }
            if Branding.isValidLogoURL(text) { brand[keyPath: path] = text } else { errors[key] = "brand_error_image_url" }
        }
        for (key, path) in [
            ("support_url", \Branding.supportURL), ("terms_url", \Branding.termsURL), ("privacy_url", \Branding.privacyURL),
        ] {
            guard let text = value(key) else { continue }
            if Branding.isValidHTTPSURL(text) { brand[keyPath: path] = text } else { errors[key] = "brand_error_url" }
        }
        for (key, path) in [("support_email", \Branding.supportEmail), ("email_from_address", \Branding.emailFromAddress)] {
            guard let text = value(key) else { continue }
            let email = EmailAddress.normalize(text)
            if EmailAddress.isValid(email) { brand[keyPath: path] = email } else { errors[key] = "form_email_invalid" }
        }
        if let sender = value("email_from_name") {
            if sender.databaseLength > 100 || sender.contains(where: { $0.isNewline || "<>\"".contains($0) }) {
                errors["email_from_name"] = "brand_error_sender"
            } else {
                brand.emailFromName = sender
            }
        }
        if let css = value("custom_css") {
            if CustomCSS.problem(css) != nil { errors["custom_css"] = "brand_error_css" } else { brand.customCSS = css }
        }
        if let font = value("font") {
            if Branding.fonts[font] != nil { brand.font = font } else { errors["font"] = "form_invalid_choice" }
        }
        if let language = value("default_language") {
            if Branding.languages.contains(language) {
                brand.defaultLanguage = language
            } else {
                errors["default_language"] = "form_invalid_choice"
            }
        }
        if !isTenant(owner), let theme = value("theme") {
            if Branding.themes.contains(theme) { brand.theme = theme } else { errors["theme"] = "form_invalid_choice" }
        }
        if partner {
            brand.poweredBy = poweredBy
            brand.allowTenantBranding = allowTenantBranding
        }
        return (brand, errors)
    }

    static func isTenant(_ owner: BrandOwner) -> Bool {
        if case .tenant = owner { true } else { false }
    }
}

import Foundation
import Yams

extension ManifestParser {
    /// A `branding:` map. Each level takes the keys that mean something there: "powered by" and whether shops may
    /// rebrand are an agency's choices, and the theme is not a shop's.
    mutating func brandingField(_ node: Node, path: String, level: SiteKind = .partner) -> Branding {
        var keys: Set<String> = [
            "name", "primary_color", "accent_color", "logo_url", "logo_dark_url", "favicon_url", "font", "custom_css", "support_email",
            "support_url", "terms_url", "privacy_url", "email_from_name", "email_from_address", "default_language", "powered_by",
            "allow_tenant_branding", "theme",
        ]
        if level == .platform { keys.subtract(["powered_by", "allow_tenant_branding"]) }
        guard let map = mapping(node, path: path, allowed: keys) else { return Branding() }
        var branding = Branding()
        func text(_ key: String) -> (Node, String)? {
            guard let n = map[key], let value = string(n, path: path + "." + key) else { return nil }
            return (n, value)
        }
        if let (n, value) = text("name") {
            if value.isEmpty || value.count > 100 { report(n, path + ".name", "must be 1–100 characters") } else { branding.name = value }
        }
        for (key, keyPath) in [("primary_color", \Branding.primaryColor), ("accent_color", \Branding.accentColor)] {
            guard let (n, value) = text(key) else { continue }
            if Branding.isValidColor(value) {
                branding[keyPath: keyPath] = value.lowercased()
            } else {
                report(n, path + "." + key, "'\(value)' is not a colour in #RRGGBB form (quote it: \"#2E7D32\")")
            }
        }
        for (key, keyPath) in [
            ("logo_url", \Branding.logoURL), ("logo_dark_url", \Branding.logoDarkURL), ("favicon_url", \Branding.faviconURL),
        ] {
            guard let (n, value) = text(key) else { continue }
            if Branding.isValidLogoURL(value) {
                branding[keyPath: keyPath] = value
            } else {
                report(n, path + "." + key, "'\(value)' must be a path under /static/ or an https:// URL")
            }
        }
        for (key, keyPath) in [
            ("support_url", \Branding.supportURL), ("terms_url", \Branding.termsURL), ("privacy_url", \Branding.privacyURL),
        ] {
            guard let (n, value) = text(key) else { continue }
            if Branding.isValidHTTPSURL(value) {
                branding[keyPath: keyPath] = value
            } else {
                report(n, path + "." + key, "must be an https:// URL")
            }
        }
        for (key, keyPath) in [("support_email", \Branding.supportEmail), ("email_from_address", \Branding.emailFromAddress)] {
            guard let (n, value) = text(key) else { continue }
            let email = EmailAddress.normalize(value)
            if EmailAddress.isValid(email) {
                branding[keyPath: keyPath] = email
            } else {
                report(n, path + "." + key, "'\(value)' is not an e-mail address")
            }
        }
        if let (n, value) = text("email_from_name") {
            if value.count > 100 || value.contains(where: { $0.isNewline || $0 == "<" || $0 == ">" || $0 == "\"" }) {
                report(n, path + ".email_from_name", "must be up to 100 characters, without quotes, angle brackets or line breaks")
            } else {
                branding.emailFromName = value
            }
        }
        if let (n, value) = text("font") {
            if Branding.fonts[value] != nil {
                branding.font = value
            } else {
                report(n, path + ".font", "must be one of \(Branding.fonts.keys.sorted().joined(separator: ", ")), not '\(value)'")
            }
        }
        if let (n, value) = text("theme") {
            if Branding.themes.contains(value) {
                branding.theme = value
            } else {
                report(n, path + ".theme", "must be one of \(Branding.themes.joined(separator: ", ")), not '\(value)'")
            }
        }
        if let (n, value) = text("custom_css") {
            if let problem = CustomCSS.problem(value) { report(n, path + ".custom_css", problem) } else { branding.customCSS = value }
        }
        if let (n, value) = text("default_language") {
            if Branding.languages.contains(value) {
                branding.defaultLanguage = value
            } else {
                report(n, path + ".default_language", "must be ru or en, not '\(value)'")
            }
        }
        for (key, keyPath) in [("powered_by", \Branding.poweredBy), ("allow_tenant_branding", \Branding.allowTenantBranding)] {
            guard let n = map[key] else { continue }
            if scalarType(n) == .bool, case .scalar(let scalar) = n {
                branding[keyPath: keyPath] = ["true", "yes", "on"].contains(scalar.string.lowercased())
            } else {
                report(n, path + "." + key, "must be true or false")
            }
        }
        return branding
    }
}

import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// The branding editor: a partner's own brand (which its shops inherit) in the partner panel, a shop's in its panel
/// when the partner allows it. "Preview" shows the panel, the sign-in page, the help centre and an e-mail in the
/// unsaved colours and font, with contrast warnings; "Save" stores it and every instance reloads within a second.
public struct BrandingController: Sendable {
    let identity: IdentityServices
    let panels: PanelRenderer
    let directory: TenantDirectory
    let assets: BrandAssetStore

    public init(identity: IdentityServices, panels: PanelRenderer, directory: TenantDirectory, assets: BrandAssetStore) {
        self.identity = identity
        self.panels = panels
        self.directory = directory
        self.assets = assets
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("branding", use: show)
        group.post("branding", use: save)
    }

    struct BrandingPage {
        var values: [String: String]
        var fonts: [SelectOption]
        var languages: [SelectOption]
        var themes: [SelectOption]
        var isPartner: Bool
        var poweredBy: Bool
        var allowTenantBranding: Bool
        var errors: [String: String]
        var showErrors: Bool
        var warnings: [String]
        var hasWarnings: Bool
        var preview: BrandView
        var previewName: String
    }

    static let textFields = [
        "name", "primary_color", "accent_color", "logo_url", "logo_dark_url", "favicon_url", "support_email", "support_url", "terms_url",
        "privacy_url",
        "email_from_name", "email_from_address", "custom_css",
    ]

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.editBranding, request: request)
        let own = try await stored(panel)
        return render(own, values: Self.values(of: own), errors: [:], panel: panel, request: request, context: context)
    }

    @Sendable func save(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.editBranding, request: request)
        let t = panels.localizer.catalog(context.language(request: request))
        var values: [String: String] = [:]
        for key in Self.textFields + ["font", "default_language", "theme"] {
            values[key] = context.form.raw(key).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // An uploaded image replaces the address typed beside it (also on "preview": the image is stored by its
        // content, so the preview shows it and "save" keeps it).
        var uploadErrors: [String: String] = [:]
        for upload in Self.uploads {
            guard let file = context.form.files[upload.field] else { continue }
            switch BrandImage.check(file.bytes, allowed: upload.kinds) {
            case .success(let image): values[upload.urlField] = try await assets.store(image)
            case .failure(let problem): uploadErrors[upload.urlField] = problem.rawValue
            }
        }
        var (draft, errors) = Self.parse(
            values, partner: panel.site.kind == .partner, poweredBy: context.form["powered_by"] == "on",
            allowTenantBranding: context.form["allow_tenant_branding"] == "on")
        errors.merge(uploadErrors) { _, upload in upload }
        let errorTexts = errors.mapValues { t[$0] ?? $0 }
        if context.form["intent"] == "preview" || !errors.isEmpty {
            return try render(
                draft, values: values, errors: errorTexts, panel: panel, request: request, context: context,
                status: errors.isEmpty ? .ok : .unprocessableContent
            ).response(from: request, context: context)
        }
        switch panel.site {
        case .partner(let partner): try await Self.store(draft, partnerID: partner.id, on: identity.client, logger: identity.logger)
        case .tenant(let tenant): try await Self.store(draft, tenantID: tenant.id, on: identity.client, logger: identity.logger)
        case .platform: throw HTTPError(.notFound)
        }
        try await identity.audit(panel.audit("branding.updated", target: draft.name ?? ""))
        // This instance at once; the others on the NOTIFY the update fires.
        try await directory.reload()
        try await identity.sessions.setFlash(Flash(.success, t["brand_saved"] ?? ""), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin/branding", type: .normal)
    }

    /// The file fields: which kinds each takes and the address field an upload fills.
    static let uploads: [(field: String, urlField: String, kinds: Set<BrandImage.Kind>)] = [
        ("logo_file", "logo_url", [.png, .svg]), ("logo_dark_file", "logo_dark_url", [.png, .svg]),
        ("favicon_file", "favicon_url", [.png, .svg, .ico]),
    ]

    /// The brand as stored at this level (not resolved).
    private func stored(_ panel: Panel) async throws -> Branding {
        let found: Branding?
        switch panel.site {
        case .partner(let partner): found = try await Self.stored(partnerID: partner.id, on: identity.client, logger: identity.logger)
        case .tenant(let tenant): found = try await Self.stored(tenantID: tenant.id, on: identity.client, logger: identity.logger)
        case .platform: found = nil
        }
        guard let found else { throw HTTPError(.notFound) }
        return found
    }

    /// A partner's (`partnerID`) or a tenant's (`tenantID`) own branding as stored, or `nil` when there is no such row.
    static func stored(partnerID: UUID? = nil, tenantID: UUID? = nil, on client: PostgresClient, logger: Logger) async throws -> Branding? {
        let rows = try await client.query(
            """
            SELECT branding::text FROM platform.partners WHERE id = \(partnerID)
            UNION ALL SELECT branding::text FROM platform.tenants WHERE id = \(tenantID)
            """, logger: logger)
        for try await (json) in rows.decode(String.self) { return Branding.fromJSON(json) }
        return nil
    }

    /// Replaces a partner's or a tenant's own branding; the row's trigger tells every instance to reload.
    static func store(
        _ branding: Branding, partnerID: UUID? = nil, tenantID: UUID? = nil, on client: PostgresClient, logger: Logger
    )
        async throws
    {
        if let partnerID {
            try await client.query(
                "UPDATE platform.partners SET branding = \(branding.json)::jsonb, updated_at = now() WHERE id = \(partnerID)",
                logger: logger)
        } else if let tenantID {
            try await client.query(
                "UPDATE platform.tenants SET branding = \(branding.json)::jsonb, updated_at = now() WHERE id = \(tenantID)", logger: logger)
        }
    }

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
    /// (inherited); `poweredBy` and `allowTenantBranding` count at partner level only.
    static func parse(
        _ values: [String: String], partner: Bool, poweredBy: Bool?, allowTenantBranding: Bool?
    ) -> (Branding, [String: String]) {
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
        if partner {
            if let theme = value("theme") {
                if Branding.themes.contains(theme) { brand.theme = theme } else { errors["theme"] = "form_invalid_choice" }
            }
            brand.poweredBy = poweredBy
            brand.allowTenantBranding = allowTenantBranding
        }
        return (brand, errors)
    }

    private func render(
        _ draft: Branding, values: [String: String], errors: [String: String], panel: Panel, request: Request, context: AppRequestContext,
        status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        let isPartner = panel.site.kind == .partner
        // What the brand will look like: the draft layered exactly as pages layer it.
        let resolved: Branding
        switch panel.site {
        case .tenant(let tenant): resolved = Branding.forTenant(draft, partner: tenant.partnerBranding, shopName: tenant.name)
        case .partner(let partner): resolved = Branding.forPartner(draft, partnerName: partner.name)
        case .platform: resolved = .platformDefault
        }
        let preview = BrandView(resolved)
        let warnings = BrandView.contrastWarnings(resolved).map { t[$0] ?? $0 }
        let fontLabels = [
            "system": "brand_font_system", "humanist": "brand_font_humanist", "geometric": "brand_font_geometric",
            "rounded": "brand_font_rounded", "serif": "brand_font_serif",
        ]
        let page = BrandingPage(
            values: values,
            fonts: [SelectOption(value: "", label: t["brand_inherit"] ?? "", selected: values["font"] == nil)]
                + Branding.fonts.keys.sorted().map {
                    SelectOption(value: $0, label: t[fontLabels[$0] ?? ""] ?? $0, selected: values["font"] == $0)
                },
            languages: [("", t["brand_inherit"] ?? ""), ("ru", "Русский"), ("en", "English")].map {
                SelectOption(value: $0.0, label: $0.1, selected: (values["default_language"] ?? "") == $0.0)
            },
            themes: Branding.themes.map {
                SelectOption(value: $0, label: t["brand_theme_" + $0] ?? $0, selected: (values["theme"] ?? "default") == $0)
            },
            isPartner: isPartner, poweredBy: draft.poweredBy ?? false, allowTenantBranding: draft.allowTenantBranding ?? true,
            errors: errors, showErrors: !errors.isEmpty, warnings: warnings, hasWarnings: !warnings.isEmpty, preview: preview,
            previewName: preview.name)
        var html = panels.page(
            "pages/admin/branding", page, panel: panel, context: context, request: request, title: t["nav_branding"] ?? "",
            section: "branding", status: status, previewStyle: Self.previewStyle(preview))
        html.formActionOrigins = []
        return html
    }

    /// The draft's colours and font as custom properties for the preview (validated values only: colours are
    /// `#rrggbb`, font stacks come from a fixed list without quotes).
    static func previewStyle(_ brand: BrandView) -> String {
        ".preview-stage{--pv-brand:\(brand.primary);--pv-brand-dark:\(brand.primaryDark);--pv-brand-soft:\(brand.primarySoft);"
            + "--pv-on-brand:\(brand.onPrimary);--pv-accent:\(brand.accent);--pv-font:\(brand.font)}"
    }
}

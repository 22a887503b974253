import Foundation
import Hummingbird

/// The branding editor: the operator's own brand on the platform panel, a partner's (which its shops inherit) in the
/// partner panel, a shop's in its panel when the partner allows it. "Preview" shows the panel, the sign-in page, the
/// help centre and an e-mail in the unsaved colours and font, with contrast warnings; "Save" stores it and every
/// instance reloads within a second.
public struct BrandingController: Sendable {
    let branding: BrandingStore
    let assets: BrandAssetStore
    let directory: TenantDirectory
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        branding: BrandingStore, assets: BrandAssetStore, directory: TenantDirectory, sessions: SessionStore, auditLog: AuditLog,
        panels: PanelRenderer
    ) {
        self.branding = branding
        self.assets = assets
        self.directory = directory
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.branding, use: show)
        routes.post(.branding, use: save)
    }

    struct BrandingPage {
        var action = PanelURL.branding.path
        var values: [String: String]
        var fonts: [SelectOption]
        var languages: [SelectOption]
        var themes: [SelectOption]
        var isPartner: Bool
        var showTheme: Bool
        var poweredBy: Bool
        var poweredByLabel: String
        var allowTenantBranding: Bool
        var errors: [String: String]
        var showErrors: Bool
        var warnings: [String]
        var hasWarnings: Bool
        var preview: BrandView
        var previewName: String
        /// What the empty fields stand for here (the level above's values), shown as placeholders.
        var inherited: [String: String]
        var inheritHint: String
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let owner = BrandOwner(context.panel.site)
        guard let own = try await branding.stored(owner) else { throw HTTPError(.notFound) }
        return render(own, values: BrandingForm.values(of: own), errors: [:], context: context)
    }

    @Sendable func save(request: Request, context: PanelRequestContext) async throws -> Response {
        let owner = BrandOwner(context.panel.site)
        let t = panels.texts(context)
        var values: [String: String] = [:]
        for key in BrandingForm.textFields + ["font", "default_language", "theme"] {
            values[key] = context.form.raw(key).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // An uploaded image replaces the address typed beside it (also on "preview": the image is stored by its
        // content, so the preview shows it and "save" keeps it).
        var uploadErrors: [String: String] = [:]
        for upload in BrandingForm.uploads {
            guard let file = context.form.files[upload.field] else { continue }
            switch BrandImage.check(file.bytes, allowed: upload.kinds) {
            case .success(let image): values[upload.urlField] = try await assets.store(image)
            case .failure(let problem): uploadErrors[upload.urlField] = problem.rawValue
            }
        }
        var (draft, errors) = BrandingForm.parse(
            values, owner: owner, poweredBy: context.form["powered_by"] == "on",
            allowTenantBranding: context.form["allow_tenant_branding"] == "on")
        errors.merge(uploadErrors) { _, upload in upload }
        if context.form["intent"] == "preview" || !errors.isEmpty {
            return render(
                draft, values: values, errors: errors.mapValues { t[$0] ?? $0 }, context: context,
                status: errors.isEmpty ? .ok : .unprocessableContent
            ).response
        }
        let audit = context.panel.audit("branding.updated", target: draft.name ?? "")
        try await branding.database.transaction(logger: context.logger) { transaction in
            try await branding.store(draft, owner, on: transaction)
            try await auditLog.record(audit, on: transaction)
        }
        // This instance at once; the others on the NOTIFY the update fires.
        try await directory.reload()
        try await sessions.setFlash(Flash(.success, t["brand_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.branding.path, type: .normal)
    }

    private func render(
        _ draft: Branding, values: [String: String], errors: [String: String], context: PanelRequestContext,
        status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let t = panels.texts(context)
        let site = context.panel.site
        let snapshot = directory.snapshot
        // What the brand will look like: the draft layered exactly as pages layer it.
        func layered(_ draft: Branding) -> Branding {
            switch site {
            case .tenant(let tenant): Branding.forTenant(draft, partner: tenant.partnerBranding, shopName: tenant.name)
            case .partner(let partner): Branding.forPartner(draft, partnerName: partner.name, platform: snapshot.platform.resolvedBranding)
            case .platform: Branding.forPlatform(draft)
            }
        }
        let resolved = layered(draft)
        let above = layered(Branding())
        let inherited = ["name": above.name, "primary_color": above.primaryColor, "accent_color": above.accentColor].compactMapValues { $0 }
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
            isPartner: site.kind == .partner, showTheme: site.kind != .tenant, poweredBy: draft.poweredBy ?? false,
            poweredByLabel: (t["brand_field_powered_by"] ?? "").replacingOccurrences(
                of: "%platform", with: snapshot.platform.resolvedBranding.name ?? ""),
            allowTenantBranding: draft.allowTenantBranding ?? true, errors: errors, showErrors: !errors.isEmpty, warnings: warnings,
            hasWarnings: !warnings.isEmpty, preview: preview, previewName: preview.name, inherited: inherited,
            inheritHint: t[site.kind == .platform ? "brand_inherit_hint_platform" : "brand_inherit_hint"] ?? "")
        return panels.page(
            "pages/branding/edit", page, context: context, title: t["nav_branding"] ?? "", current: .branding, status: status,
            previewStyle: Self.previewStyle(preview))
    }

    /// The draft's colours and font as custom properties for the preview (validated values only: colours are
    /// `#rrggbb`, font stacks come from a fixed list without quotes).
    static func previewStyle(_ brand: BrandView) -> String {
        ".preview-stage{--pv-brand:\(brand.primary);--pv-brand-dark:\(brand.primaryDark);--pv-brand-soft:\(brand.primarySoft);"
            + "--pv-on-brand:\(brand.onPrimary);--pv-accent:\(brand.accent);--pv-font:\(brand.font)}"
    }
}

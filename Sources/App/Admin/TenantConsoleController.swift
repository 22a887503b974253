import Foundation
import Hummingbird
import PostgresNIO

/// The reseller console's "new shop": provisioning the tenant and inviting its first owner, in one transaction.
public struct TenantConsoleController: Sendable {
    let identity: IdentityServices
    let panels: PanelRenderer
    let directory: TenantDirectory
    let invitations: Invitations

    public init(identity: IdentityServices, panels: PanelRenderer, directory: TenantDirectory, invitations: Invitations) {
        self.identity = identity
        self.panels = panels
        self.directory = directory
        self.invitations = invitations
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("tenants/new", use: form)
        group.post("tenants/new", use: create)
    }

    struct NewTenantPage {
        var name = ""
        var slug = ""
        var email = ""
        var languages: [SelectOption] = []
        var baseDomain = ""
        var errors: [String: String] = [:]
        var showErrors = false
    }

    @Sendable func form(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.createTenant, request: request)
        return render(NewTenantPage(), language: "", panel: panel, request: request, context: context)
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.createTenant, request: request)
        let t = panels.localizer.catalog(context.language(request: request))
        var page = NewTenantPage(
            name: context.form.text("name"), slug: context.form.text("slug").lowercased(),
            email: EmailAddress.normalize(context.form.text("email")))
        let language = Localizer.supported.contains(context.form.text("language")) ? context.form.text("language") : "ru"
        let (slug, errors) = Invitations.check(name: page.name, slug: page.slug, ownerEmail: page.email)
        page.slug = slug
        page.errors = errors.mapValues { t[$0] ?? $0 }
        // A platform administrator creates shops without a partner; a partner's always belong to it.
        var partner: PartnerRecord?
        if case .partner(let record) = panel.site { partner = record }
        if page.errors.isEmpty {
            do {
                try await provisionAndInvite(page: page, language: language, partner: partner, panel: panel, context: context)
                try await directory.reload()
                try await identity.sessions.setFlash(
                    Flash(
                        .success,
                        (t["tenants_created"] ?? "").replacingOccurrences(of: "%name", with: page.name)
                            .replacingOccurrences(of: "%email", with: page.email)), sessionID: panel.user.sessionID)
                return .redirect(to: "/admin", type: .normal)
            } catch TenancyError.slugTaken, TenancyError.domainTaken, TenancyError.domainReserved {
                page.errors["slug"] = t["tenants_slug_taken"]
            } catch TenancyError.reservedSlug {
                page.errors["slug"] = t["tenants_slug_reserved"]
            }
        }
        return try render(page, language: language, panel: panel, request: request, context: context, status: .unprocessableContent)
            .response(from: request, context: context)
    }

    /// The tenant (schema, migrations, directory row) and its owner's invitation commit together or not at all.
    private func provisionAndInvite(
        page: NewTenantPage, language: String, partner: PartnerRecord?, panel: Panel, context: AppRequestContext
    )
        async throws
    {
        let host = page.slug + "." + directory.snapshot.baseDomain
        try await invitations.createShop(
            Invitations.NewShop(slug: page.slug, name: page.name, ownerEmail: page.email, language: language), partner: partner,
            by: Invitations.Inviter(userID: panel.user.user.id, name: panel.user.user.displayName), origin: context.origin(host: host),
            audit: panel.audit("tenant.created", target: page.slug, details: ["owner": page.email]))
    }

    private func render(
        _ page: NewTenantPage, language: String, panel: Panel, request: Request, context: AppRequestContext,
        status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let t = panels.localizer.catalog(context.language(request: request))
        var page = page
        page.showErrors = !page.errors.isEmpty
        page.baseDomain = directory.snapshot.baseDomain
        page.languages = [("ru", "Русский"), ("en", "English")].map {
            SelectOption(value: $0.0, label: $0.1, selected: $0.0 == (language.isEmpty ? "ru" : language))
        }
        let home = panel.site.kind == .platform ? (t["nav_overview"] ?? "") : (t["nav_clients"] ?? "")
        return panels.page(
            "pages/admin/tenant-new", page, panel: panel, context: context, request: request, title: t["tenants_new"] ?? "",
            section: "tenants", crumbs: [("/admin", home)], status: status)
    }
}

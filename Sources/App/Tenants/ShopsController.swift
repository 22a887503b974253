import Foundation
import Hummingbird

/// The console's actions on shops: a new shop with its first owner's invitation (one transaction), suspending,
/// resuming and deleting (soft: the data stays and "Resume" brings it back), and switching a shop's plan.
public struct ShopsController: Sendable {
    let invitations: Invitations
    let provisioner: TenantProvisioner
    let plans: PlanStore
    let directory: TenantDirectory
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        invitations: Invitations, provisioner: TenantProvisioner, plans: PlanStore, directory: TenantDirectory, sessions: SessionStore,
        auditLog: AuditLog, panels: PanelRenderer
    ) {
        self.invitations = invitations
        self.provisioner = provisioner
        self.plans = plans
        self.directory = directory
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.newTenant, use: form)
        routes.post(.newTenant, use: create)
        routes.post(.suspendTenant(), use: suspend)
        routes.post(.resumeTenant(), use: resume)
        routes.post(.deleteTenant(), use: delete)
        routes.post(.tenantPlan(), use: changePlan)
    }

    struct NewTenantPage {
        var name = ""
        var slug = ""
        var email = ""
        var languages: [SelectOption] = []
        var baseDomain = ""
        var errors: [String: String] = [:]
        var showErrors = false
        var action = PanelURL.newTenant.path
    }

    @Sendable func form(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        render(NewTenantPage(), language: "", context: context)
    }

    @Sendable func create(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let t = panels.texts(context)
        var page = NewTenantPage(
            name: context.form.text("name"), slug: context.form.text("slug").lowercased(),
            email: EmailAddress.normalize(context.form.text("email")))
        let language = Localizer.supported.contains(context.form.text("language")) ? context.form.text("language") : "ru"
        let (slug, errors) = Invitations.check(name: page.name, slug: page.slug, ownerEmail: page.email)
        page.slug = slug
        page.errors = errors.mapValues { t[$0] ?? $0 }
        if page.errors.isEmpty {
            // The tenant (schema, migrations, directory row) and its owner's invitation commit together or not at all. A
            // platform administrator creates shops without a partner; a partner's always belong to it.
            let snapshot = directory.snapshot
            do {
                try await invitations.createShop(
                    Invitations.NewShop(slug: page.slug, name: page.name, ownerEmail: page.email, language: language),
                    partner: panel.partner, platform: snapshot.platform,
                    by: Invitations.Inviter(userID: panel.user.user.id, name: panel.user.user.displayName),
                    origin: context.origin(host: page.slug + "." + snapshot.baseDomain),
                    audit: panel.audit("tenant.created", target: page.slug, details: ["owner": page.email]))
                try await directory.reload()
                let text = (t["tenants_created"] ?? "").replacingOccurrences(of: "%name", with: page.name)
                    .replacingOccurrences(of: "%email", with: page.email)
                try await sessions.setFlash(Flash(.success, text), sessionID: panel.user.sessionID)
                return .redirect(to: PanelURL.home.path, type: .normal)
            } catch TenancyError.slugTaken, TenancyError.domainTaken, TenancyError.domainReserved {
                page.errors["slug"] = t["tenants_slug_taken"]
            } catch TenancyError.reservedSlug {
                page.errors["slug"] = t["tenants_slug_reserved"]
            }
        }
        return render(page, language: language, context: context, status: .unprocessableContent).response
    }

    private func render(
        _ page: NewTenantPage, language: String, context: PanelRequestContext, status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let t = panels.texts(context)
        var page = page
        page.showErrors = !page.errors.isEmpty
        page.baseDomain = directory.snapshot.baseDomain
        page.languages = [("ru", "Русский"), ("en", "English")].map {
            SelectOption(value: $0.0, label: $0.1, selected: $0.0 == (language.isEmpty ? "ru" : language))
        }
        let home = context.panel.site.kind == .platform ? (t["nav_overview"] ?? "") : (t["nav_clients"] ?? "")
        return panels.page(
            "pages/tenants/new", page, context: context, title: t["tenants_new"] ?? "", current: .newTenant, crumbs: [(.home, home)],
            status: status)
    }

    /// Puts one of the partner's shops on one of its plans (or none). Shops on the platform panel keep theirs.
    @Sendable func changePlan(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        guard let partner = panel.partner else { throw HTTPError(.notFound) }
        let tenant = try context.managedTenant(in: directory.snapshot)
        let raw = context.form.text("plan")
        let planID = raw.isEmpty ? nil : UUID(uuidString: raw)
        if !raw.isEmpty, planID == nil { throw RefusalError(.unprocessableContent, messageKey: "form_invalid_choice") }
        let t = panels.texts(context)
        let offers = try await plans.all(partnerID: partner.id)
        let planName = offers.first { $0.id == planID }?.name ?? (t["tenants_plan_none"] ?? "")
        var audit = panel.audit("tenant.plan_changed", target: tenant.slug, details: ["plan": planName])
        audit.tenantID = tenant.id
        let assigned = try await plans.database.transaction(logger: context.logger) { transaction in
            guard try await plans.assign(planID, tenantID: tenant.id, partnerID: partner.id, on: transaction) else { return false }
            try await auditLog.record(audit, on: transaction)
            return true
        }
        guard assigned else { throw RefusalError(.unprocessableContent, messageKey: "form_invalid_choice") }
        let text = (t["tenants_plan_changed"] ?? "").replacingOccurrences(of: "%name", with: tenant.name)
            .replacingOccurrences(of: "%plan", with: planName)
        try await sessions.setFlash(Flash(.success, text), sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.home.path, type: .normal)
    }

    @Sendable func suspend(request: Request, context: PanelRequestContext) async throws -> Response {
        try await changeStatus(.suspend, context: context)
    }

    @Sendable func resume(request: Request, context: PanelRequestContext) async throws -> Response {
        try await changeStatus(.resume, context: context)
    }

    /// Soft deletion (the shop answers 404, its data is kept and "Resume" brings it back); only a suspended shop.
    @Sendable func delete(request: Request, context: PanelRequestContext) async throws -> Response {
        try await changeStatus(.delete, context: context)
    }

    private func changeStatus(_ action: TenantProvisioner.Action, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let tenant = try context.managedTenant(in: directory.snapshot)
        do {
            try await provisioner.perform(action, slug: tenant.slug)
        } catch TenancyError.invalidTransition {
            throw RefusalError(.conflict, messageKey: "tenants_invalid_transition")
        }
        try await auditLog.record(
            AuditEntry(
                actorID: panel.user.user.id, actorEmail: panel.user.user.email, partnerID: tenant.partnerID, tenantID: tenant.id,
                action: "tenant." + action.pastTense, target: tenant.slug, address: panel.address))
        try await directory.reload()
        let message = (panels.texts(context)["tenants_" + action.pastTense] ?? "").replacingOccurrences(of: "%name", with: tenant.name)
        try await sessions.setFlash(Flash(.success, message), sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.home.path, type: .normal)
    }
}

import Foundation
import Hummingbird
import PostgresNIO

/// The partner's and the platform's panels: tenants with status and counts, opening a tenant's panel through a
/// one-time hand-off, suspending and resuming (platform), and the mail outbox (platform).
public struct OperatorController: Sendable {
    let identity: IdentityServices
    let panels: PanelRenderer
    let directory: TenantDirectory
    let provisioner: TenantProvisioner

    public init(identity: IdentityServices, panels: PanelRenderer, directory: TenantDirectory, provisioner: TenantProvisioner) {
        self.identity = identity
        self.panels = panels
        self.directory = directory
        self.provisioner = provisioner
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("tenants/:slug/open", use: open)
        group.post("tenants/:slug/support", use: support)
        group.post("tenants/:slug/suspend", use: suspend)
        group.post("tenants/:slug/resume", use: resume)
        group.post("tenants/:slug/delete", use: delete)
        group.post("tenants/:slug/plan", use: changePlan)
        group.get("outbox", use: outbox)
        group.get("outbox/:id", use: outboxMessage)
        group.get("outbox/:id/html", use: outboxHTML)
    }

    struct TenantRow {
        let slug: String
        let name: String
        let partner: String
        let status: String
        let statusClass: String
        let articles: String
        let plan: String
        /// Seats in use (members and pending invitations) over the plan's, e.g. "3 / 5".
        let seats: String
        let seatsFull: Bool
        /// The partner's plans to switch to (partner panel only).
        let planOptions: [SelectOption]
        let canChangePlan: Bool
        let host: String
        let created: String
        let canOpen: Bool
        let canSuspend: Bool
        let canResume: Bool
        let canDelete: Bool
    }

    struct PartnerRow {
        let slug: String
        let name: String
        let tenants: String
        let host: String
    }

    struct PlanRow {
        let name: String
        let bots: String
        let messages: String
        let seats: String
        let llm: String
        let shops: String
    }

    struct TenantsPage {
        let plans: [PlanRow]
        let showPlans: Bool
        let rows: [TenantRow]
        let empty: Bool
        let partners: [PartnerRow]
        let showPartners: Bool
        let showPartnerColumn: Bool
        let summary: String
        let pager: Pager
        let canCreate: Bool
    }

    /// `/admin` on a partner's or the platform's host.
    func home(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.viewTenants, request: request)
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        var partnerID: UUID?
        if case .partner(let partner) = panel.site { partnerID = partner.id }
        let pageNumber = Pager.requested(request)
        let perPage = 50
        let rows = try await identity.client.query(
            """
            SELECT t.slug, t.name, coalesce(p.name, ''), t.status, coalesce(s.articles, 0),
                t.created_at, count(*) OVER ()::int,
                pl.id, pl.name, pl.max_seats,
                platform.seats_used(t.id)
            FROM platform.tenants t
            LEFT JOIN platform.partners p ON p.id = t.partner_id
            LEFT JOIN platform.tenant_stats s ON s.tenant_id = t.id
            LEFT JOIN platform.plans pl ON pl.id = t.plan_id
            WHERE t.status <> 'purged' AND (\(partnerID)::uuid IS NULL OR t.partner_id = \(partnerID))
            ORDER BY t.name, t.slug LIMIT \(perPage) OFFSET \((pageNumber - 1) * perPage)
            """, logger: identity.logger)
        let snapshot = directory.snapshot
        let plans = partnerID == nil ? [] : try await Plans.all(partnerID: partnerID, on: identity.client, logger: identity.logger)
        var tenants: [TenantRow] = []
        var total = 0
        var shopsPerPlan: [UUID: Int] = [:]
        for try await (slug, name, partner, status, articles, created, count, planID, planName, maxSeats, seatsUsed)
            in rows.decode(
                (String, String, String, String, Int, Date, Int, UUID?, String?, Int?, Int).self)
        {
            total = count
            if let planID { shopsPerPlan[planID, default: 0] += 1 }
            let used = seatsUsed
            let seats =
                NumberText.format(used, language: language) + " / "
                + (maxSeats.map { NumberText.format($0, language: language) } ?? "∞")
            let host = snapshot.tenantsBySlug[slug].map { Self.primaryHost($0, baseDomain: snapshot.baseDomain) } ?? ""
            tenants.append(
                TenantRow(
                    slug: slug, name: name, partner: partner, status: t["status_" + status] ?? status, statusClass: status,
                    articles: NumberText.format(articles, language: language),
                    plan: planName ?? (t["tenants_plan_none"] ?? ""), seats: seats, seatsFull: maxSeats.map { used >= $0 } ?? false,
                    planOptions: [SelectOption(value: "", label: t["tenants_plan_none"] ?? "", selected: planID == nil)]
                        + plans.map { SelectOption(value: $0.id.uuidString.lowercased(), label: $0.name, selected: $0.id == planID) },
                    canChangePlan: !plans.isEmpty && status != "deleted" && panel.allows(.changeTenantStatus),
                    host: host, created: DateText.long(created, language: language),
                    canOpen: status == "active" && panel.allows(.openTenantPanel),
                    canSuspend: status == "active" && panel.allows(.changeTenantStatus),
                    canResume: (status == "suspended" || status == "deleted") && panel.allows(.changeTenantStatus),
                    canDelete: status == "suspended" && panel.allows(.changeTenantStatus)))
        }
        var partners: [PartnerRow] = []
        if panel.allows(.viewPartners) {
            let counts = Dictionary(grouping: snapshot.tenantsBySlug.values.filter { $0.status != .purged }, by: \.partnerID).mapValues(
                \.count)
            partners = snapshot.partnersBySlug.values.sorted { $0.name < $1.name }.map {
                PartnerRow(
                    slug: $0.slug, name: $0.name, tenants: NumberText.format(counts[$0.id] ?? 0, language: language),
                    host: $0.domains.first ?? "")
            }
        }
        func limit(_ value: Int?) -> String {
            value.map { NumberText.format($0, language: language) } ?? (t["plans_unlimited"] ?? "∞")
        }
        let planRows = plans.map {
            PlanRow(
                name: $0.name, bots: limit($0.maxBots), messages: limit($0.maxMessagesPerMonth), seats: limit($0.maxSeats),
                llm: limit($0.llmTokensPerMonth), shops: NumberText.format(shopsPerPlan[$0.id] ?? 0, language: language))
        }
        let page = TenantsPage(
            plans: planRows, showPlans: !planRows.isEmpty,
            rows: tenants, empty: tenants.isEmpty, partners: partners, showPartners: !partners.isEmpty,
            showPartnerColumn: partnerID == nil,
            summary: (t["tenants_count"] ?? "%n").replacingOccurrences(of: "%n", with: NumberText.format(total, language: language)),
            pager: Pager(page: pageNumber, perPage: perPage, total: total, language: language, t: t) { "/admin?page=\($0)" },
            canCreate: panel.allows(.createTenant))
        let title = partnerID == nil ? (t["nav_overview"] ?? "") : (t["nav_clients"] ?? "")
        var html = panels.page(
            "pages/admin/tenants", page, panel: panel, context: context, request: request, title: title, section: "tenants")
        // "Open the panel" posts here and is redirected to the tenant's own host.
        html.formActionOrigins = Array(Set(tenants.filter(\.canOpen).map { context.origin(host: $0.host) })).sorted()
        return html
    }

    /// The host a tenant's panel opens on: its first custom domain, else `<slug>.<base domain>`.
    /// Puts one of the partner's shops on one of its plans (or none). Shops on the platform panel keep theirs.
    @Sendable func changePlan(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.changeTenantStatus, request: request)
        guard case .partner(let partner) = panel.site, let slug = context.parameters.get("slug"),
            let tenant = directory.snapshot.tenantsBySlug[slug], tenant.partnerID == partner.id
        else { throw HTTPError(.notFound) }
        let raw = context.form.text("plan")
        let planID = raw.isEmpty ? nil : UUID(uuidString: raw)
        if !raw.isEmpty, planID == nil { throw RefusalError(.unprocessableContent, messageKey: "form_invalid_choice") }
        let t = panels.localizer.catalog(context.language(request: request))
        let plans = try await Plans.all(partnerID: partner.id, on: identity.client, logger: identity.logger)
        let planName = plans.first { $0.id == planID }?.name ?? (t["tenants_plan_none"] ?? "")
        let assigned = try await identity.client.platformTransaction(logger: identity.logger) { connection in
            guard try await Plans.assign(planID, tenantID: tenant.id, partnerID: partner.id, on: connection, logger: identity.logger)
            else { return false }
            var entry = panel.audit("tenant.plan_changed", target: tenant.slug, details: ["plan": planName])
            entry.tenantID = tenant.id
            try await AuditLog.record(entry, on: connection, logger: identity.logger)
            return true
        }
        guard assigned else { throw RefusalError(.unprocessableContent, messageKey: "form_invalid_choice") }
        let text = (t["tenants_plan_changed"] ?? "").replacingOccurrences(of: "%name", with: tenant.name)
            .replacingOccurrences(of: "%plan", with: planName)
        try await identity.sessions.setFlash(Flash(.success, text), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin", type: .normal)
    }

    static func primaryHost(_ tenant: TenantRecord, baseDomain: String) -> String {
        tenant.domains.first ?? tenant.slug + "." + baseDomain
    }

    /// The tenant behind `:slug`, if this panel may act on it (a partner only on its own tenants: others are 404).
    private func tenant(_ panel: Panel, _ context: AppRequestContext) throws -> TenantRecord {
        guard let slug = context.parameters.get("slug"), let tenant = directory.snapshot.tenantsBySlug[slug] else {
            throw HTTPError(.notFound)
        }
        if case .partner(let partner) = panel.site, tenant.partnerID != partner.id { throw HTTPError(.notFound) }
        return tenant
    }

    /// Sends the user to the tenant's own host with a one-time token; cookies never cross domains.
    @Sendable func open(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.openTenantPanel, request: request)
        let tenant = try tenant(panel, context)
        guard tenant.status == .active else { throw RefusalError(.conflict, messageKey: "tenants_not_active") }
        let token = try await OneTimeTokens.issue(
            OneTimeToken(purpose: .handoff, userID: panel.user.user.id, tenantID: tenant.id, createdBy: panel.user.user.id),
            on: identity.client, logger: identity.logger)
        try await identity.audit(panel.audit("tenant.panel_opened", target: tenant.slug))
        let host = Self.primaryHost(tenant, baseDomain: directory.snapshot.baseDomain)
        return .redirect(to: context.origin(host: host) + "/admin/handoff?token=" + token, type: .normal)
    }

    /// How long a support sign-in lasts; it cannot be extended, only started again (with a new reason).
    public static let supportSessionLifetime: Duration = .seconds(30 * 60)

    /// "Sign in as" the shop's owner for support: a reason is required, it is audited on both sides, the shop's panel
    /// shows a banner for as long as it lasts, and it ends after 30 minutes.
    @Sendable func support(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.openTenantPanel, request: request)
        let tenant = try tenant(panel, context)
        let t = panels.localizer.catalog(context.language(request: request))
        let reason = context.form.text("reason")
        guard !reason.isEmpty, reason.databaseLength <= 300 else {
            try await identity.sessions.setFlash(Flash(.error, t["tenants_support_reason_required"] ?? ""), sessionID: panel.user.sessionID)
            return .redirect(to: "/admin", type: .normal)
        }
        guard tenant.status == .active else { throw RefusalError(.conflict, messageKey: "tenants_not_active") }
        let owner = try await identity.users.team(tenantID: tenant.id).first { $0.role == .owner && $0.active }
        guard let owner else {
            try await identity.sessions.setFlash(Flash(.error, t["tenants_support_no_owner"] ?? ""), sessionID: panel.user.sessionID)
            return .redirect(to: "/admin", type: .normal)
        }
        let token = try await OneTimeTokens.issue(
            OneTimeToken(purpose: .impersonate, userID: owner.userID, tenantID: tenant.id, createdBy: panel.user.user.id, note: reason),
            on: identity.client, logger: identity.logger)
        try await identity.audit(
            AuditEntry(
                actorID: panel.user.user.id, actorEmail: panel.user.user.email, partnerID: tenant.partnerID, tenantID: tenant.id,
                action: "support.started", target: owner.email, details: ["support": reason], address: panel.address))
        let host = Self.primaryHost(tenant, baseDomain: directory.snapshot.baseDomain)
        return .redirect(to: context.origin(host: host) + "/admin/handoff?token=" + token, type: .normal)
    }

    @Sendable func suspend(request: Request, context: AppRequestContext) async throws -> Response {
        try await changeStatus(.suspend, request: request, context: context)
    }

    @Sendable func resume(request: Request, context: AppRequestContext) async throws -> Response {
        try await changeStatus(.resume, request: request, context: context)
    }

    /// Soft deletion (the shop answers 404, its data is kept and "Resume" brings it back); only a suspended shop.
    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        try await changeStatus(.delete, request: request, context: context)
    }

    private func changeStatus(_ action: TenantProvisioner.Action, request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.changeTenantStatus, request: request)
        let tenant = try tenant(panel, context)
        let t = panels.localizer.catalog(context.language(request: request))
        do {
            try await provisioner.perform(action, slug: tenant.slug)
        } catch TenancyError.invalidTransition {
            throw RefusalError(.conflict, messageKey: "tenants_invalid_transition")
        }
        try await identity.audit(
            AuditEntry(
                actorID: panel.user.user.id, actorEmail: panel.user.user.email, partnerID: tenant.partnerID, tenantID: tenant.id,
                action: "tenant." + action.pastTense, target: tenant.slug, address: panel.address))
        try await directory.reload()
        let message = (t["tenants_" + action.pastTense] ?? "").replacingOccurrences(of: "%name", with: tenant.name)
        try await identity.sessions.setFlash(Flash(.success, message), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin", type: .normal)
    }

    // MARK: Outbox

    struct OutboxRow {
        let id: Int
        let to: String
        let subject: String
        let status: String
        let statusClass: String
        let created: String
    }

    struct OutboxPage {
        let rows: [OutboxRow]
        let empty: Bool
        let delivers: Bool
        let pager: Pager
    }

    struct OutboxMessagePage {
        let id: Int
        let to: String
        let subject: String
        let status: String
        let statusClass: String
        let created: String
        let text: String
        let hasHTML: Bool
        let error: String?
    }

    @Sendable func outbox(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.viewOutbox, request: request)
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        let pageNumber = Pager.requested(request)
        let (messages, total) = try await identity.outbox.list(page: pageNumber)
        let rows = messages.map {
            OutboxRow(
                id: $0.id, to: $0.to, subject: $0.subject, status: t["outbox_" + $0.status] ?? $0.status, statusClass: $0.status,
                created: DateText.dateTime($0.createdAt, language: language))
        }
        let page = OutboxPage(
            rows: rows, empty: rows.isEmpty, delivers: identity.outbox.delivers,
            pager: Pager(page: pageNumber, perPage: 50, total: total, language: language, t: t) { "/admin/outbox?page=\($0)" })
        return panels.page(
            "pages/admin/outbox", page, panel: panel, context: context, request: request, title: t["nav_outbox"] ?? "", section: "outbox")
    }

    @Sendable func outboxMessage(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.viewOutbox, request: request)
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        guard let id = context.parameters.get("id").flatMap(Int.init), let message = try await identity.outbox.message(id: id) else {
            throw HTTPError(.notFound)
        }
        let page = OutboxMessagePage(
            id: id, to: message.to, subject: message.subject, status: t["outbox_" + message.status] ?? message.status,
            statusClass: message.status, created: DateText.dateTime(message.createdAt, language: language), text: message.text,
            hasHTML: message.html != nil, error: message.lastError)
        return panels.page(
            "pages/admin/outbox-message", page, panel: panel, context: context, request: request, title: message.subject, section: "outbox",
            crumbs: [("/admin/outbox", t["nav_outbox"] ?? "")])
    }

    /// The HTML part as the recipient would see it, in a sandbox: no scripts, no forms, nothing from this origin.
    @Sendable func outboxHTML(request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.panel(.viewOutbox, request: request)
        guard let id = context.parameters.get("id").flatMap(Int.init), let html = try await identity.outbox.message(id: id)?.html else {
            throw HTTPError(.notFound)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy:
                    "sandbox; default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

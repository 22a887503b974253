import Foundation
import Hummingbird

/// From an agency's or the platform's console into a shop's panel: "Open the panel" (as oneself) and "Sign in as the
/// owner" for support (a reason is required, both sides are audited, it lasts 30 minutes). Both send the browser to
/// the shop's own host with a one-time token (`HandoffController` takes it there).
public struct ShopAccessController: Sendable {
    let users: UserStore
    let tokens: OneTimeTokens
    let directory: TenantDirectory
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        users: UserStore, tokens: OneTimeTokens, directory: TenantDirectory, sessions: SessionStore, auditLog: AuditLog,
        panels: PanelRenderer
    ) {
        self.users = users
        self.tokens = tokens
        self.directory = directory
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.post(.openTenant(), use: open)
        routes.post(.supportTenant(), use: support)
    }

    /// Sends the user to the tenant's own host with a one-time token; cookies never cross domains.
    @Sendable func open(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let snapshot = directory.snapshot
        let tenant = try context.managedTenant(in: snapshot)
        guard tenant.status == .active else { throw RefusalError(.conflict, messageKey: "tenants_not_active") }
        let token = try await tokens.issue(
            OneTimeToken(purpose: .handoff, userID: panel.user.user.id, tenantID: tenant.id, createdBy: panel.user.user.id))
        try await auditLog.record(panel.audit("tenant.panel_opened", target: tenant.slug))
        let host = snapshot.primaryHost(of: tenant)
        return .redirect(to: context.origin(host: host) + PanelURL.handoff.path(query: [("token", token)]), type: .normal)
    }

    @Sendable func support(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let snapshot = directory.snapshot
        let tenant = try context.managedTenant(in: snapshot)
        let t = panels.texts(context)
        let reason = context.form.text("reason")
        guard !reason.isEmpty, reason.databaseLength <= 300 else {
            try await sessions.setFlash(Flash(.error, t["tenants_support_reason_required"] ?? ""), sessionID: panel.user.sessionID)
            return .redirect(to: PanelURL.home.path, type: .normal)
        }
        guard tenant.status == .active else { throw RefusalError(.conflict, messageKey: "tenants_not_active") }
        guard let owner = try await users.team(tenantID: tenant.id).first(where: { $0.role == .owner && $0.active }) else {
            try await sessions.setFlash(Flash(.error, t["tenants_support_no_owner"] ?? ""), sessionID: panel.user.sessionID)
            return .redirect(to: PanelURL.home.path, type: .normal)
        }
        let token = try await tokens.issue(
            OneTimeToken(purpose: .impersonate, userID: owner.userID, tenantID: tenant.id, createdBy: panel.user.user.id, note: reason))
        try await auditLog.record(
            AuditEntry(
                actorID: panel.user.user.id, actorEmail: panel.user.user.email, partnerID: tenant.partnerID, tenantID: tenant.id,
                action: "support.started", target: owner.email, details: ["support": reason], address: panel.address))
        let host = snapshot.primaryHost(of: tenant)
        return .redirect(to: context.origin(host: host) + PanelURL.handoff.path(query: [("token", token)]), type: .normal)
    }
}

extension PanelRequestContext {
    /// The tenant behind `:slug`, if this panel may act on it (a partner only on its own tenants: others are 404).
    func managedTenant(in snapshot: DirectorySnapshot) throws -> TenantRecord {
        guard let slug = parameters.get("slug"), let tenant = snapshot.tenantsBySlug[slug] else { throw HTTPError(.notFound) }
        if let partner = panel.partner, tenant.partnerID != partner.id { throw HTTPError(.notFound) }
        return tenant
    }
}

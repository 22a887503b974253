import Foundation
import Hummingbird

/// `/admin/handoff?token=…` on a shop's host: signs someone in with a one-time token that an agency's or the platform's
/// panel made for this host (cookies never cross hosts), either as themselves ("Open the panel") or, for support, as the
/// shop's owner for 30 minutes.
public struct HandoffController: Sendable {
    let users: UserStore
    let tokens: OneTimeTokens
    let sessions: SessionStore
    let auditLog: AuditLog

    public init(users: UserStore, tokens: OneTimeTokens, sessions: SessionStore, auditLog: AuditLog) {
        self.users = users
        self.tokens = tokens
        self.sessions = sessions
        self.auditLog = auditLog
    }

    /// How long a support sign-in lasts; it cannot be extended, only started again (with a new reason).
    public static let supportSessionLifetime: Duration = .seconds(30 * 60)

    func addRoutes(to routes: PublicPanelRoutes) {
        routes.get(.handoff, use: handoff)
    }

    @Sendable func handoff(request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token").map { String($0) } ?? ""
        guard case .tenant(let tenant) = context.site else { throw RefusalError(.forbidden, messageKey: "error_handoff_invalid") }
        if let claim = try await tokens.consume(token, purpose: .impersonate) {
            return try await supportSignIn(claim, tenant: tenant, request: request, context: context)
        }
        let site = Site.tenant(tenant)
        guard let claim = try await tokens.consume(token, purpose: .handoff), claim.tenantID == tenant.id, let userID = claim.userID,
            let user = try await users.find(id: userID),
            Access(roles: try await users.roles(userID: userID, site: site), site: site).role != nil
        else {
            throw RefusalError(.forbidden, messageKey: "error_handoff_invalid")
        }
        var response = Response.redirect(to: PanelURL.home.path, type: .normal)
        try await SignIn(sessions: sessions).start(for: user, on: &response, context: context, request: request)
        try await auditLog.record(SignIn.entry(user, site: site, action: "auth.handoff", address: context.clientAddress))
        return response
    }

    /// A support sign-in: a session as the shop's person, remembering the staff member and the reason, for 30 minutes.
    private func supportSignIn(
        _ claim: OneTimeToken, tenant: TenantRecord, request: Request, context: AppRequestContext
    ) async throws -> Response {
        let site = Site.tenant(tenant)
        guard claim.tenantID == tenant.id, let userID = claim.userID, let staffID = claim.createdBy,
            let user = try await users.find(id: userID), let staff = try await users.find(id: staffID),
            Access(roles: try await users.roles(userID: staffID, site: site), site: site).role != nil
        else {
            throw RefusalError(.forbidden, messageKey: "error_handoff_invalid")
        }
        let reason = claim.note ?? ""
        var response = Response.redirect(to: PanelURL.home.path, type: .normal)
        try await SignIn(sessions: sessions).start(
            for: user, on: &response, context: context, request: request, impersonator: (staff.id, reason, Self.supportSessionLifetime))
        var audit = SignIn.entry(
            user, site: site, action: "support.signed_in", target: user.email, details: ["support": reason], address: context.clientAddress)
        audit.actorID = staff.id
        audit.actorEmail = staff.email + " → " + user.email
        try await auditLog.record(audit)
        return response
    }
}

import Foundation
import Hummingbird

/// The page an invitation e-mail opens: someone new chooses a name and a password, someone who already has an account
/// confirms with theirs; either way they join the shop's team with the invited role and are signed in.
public struct InvitationController: Sendable {
    let database: Database
    let users: UserStore
    let tokens: OneTimeTokens
    let throttle: LoginThrottle
    let hasher: PasswordHasher
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        database: Database, users: UserStore, tokens: OneTimeTokens, throttle: LoginThrottle, hasher: PasswordHasher,
        sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer
    ) {
        self.database = database
        self.users = users
        self.tokens = tokens
        self.throttle = throttle
        self.hasher = hasher
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PublicPanelRoutes) {
        routes.get(.invite, use: inviteForm)
        routes.post(.invite, use: accept)
    }

    struct InvitePage {
        var token = ""
        var invalid = false
        var email = ""
        var siteName = ""
        var roleLabel = ""
        /// The address already has a password: they confirm with it instead of choosing one.
        var existing = false
        var name = ""
        var errors: [String: String] = [:]
    }

    /// The invitation behind a token, if it is valid and for this tenant.
    private func invitation(_ token: String, context: AppRequestContext) async throws -> (email: String, role: Role, tenant: TenantRecord)?
    {
        guard case .tenant(let tenant) = context.site, let claim = try await tokens.peek(token, purpose: .invite),
            claim.tenantID == tenant.id, let email = claim.email, let role = claim.role
        else { return nil }
        return (email, role, tenant)
    }

    @Sendable func inviteForm(request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token").map { String($0) } ?? ""
        let t = panels.localizer.catalog(context.panelLanguage)
        guard let (email, role, tenant) = try await invitation(token, context: context) else { return invalid(context) }
        let existing = try await users.find(email: email)?.passwordHash != nil
        let page = InvitePage(
            token: token, email: email, siteName: tenant.name, roleLabel: t[role.textKey] ?? role.rawValue, existing: existing)
        return panels.authPage("pages/identity/invite", page, context: context, titleKey: "auth_invite_title").response
    }

    @Sendable func accept(request: Request, context: AppRequestContext) async throws -> Response {
        let t = panels.localizer.catalog(context.panelLanguage)
        let token = context.form.text("token")
        guard let (email, role, tenant) = try await invitation(token, context: context) else { return invalid(context) }
        let existingUser = try await users.find(email: email)
        let existing = existingUser?.passwordHash != nil
        var page = InvitePage(
            token: token, email: email, siteName: tenant.name, roleLabel: t[role.textKey] ?? role.rawValue, existing: existing,
            name: context.form.text("name"))
        let password = context.form.raw("password")
        var newHash: String?
        if existing {
            let attempt = try await throttle.reserve(email: email, address: context.clientAddress)
            if let until = attempt.refusedUntil { throw SignIn.tooManyAttempts(until: until, t: t) }
            if try await hasher.verifyOffLoop(password, against: existingUser?.passwordHash) {
                try await throttle.succeeded(email: email, address: context.clientAddress)
            } else {
                if let until = attempt.waitIfWrong { throw SignIn.tooManyAttempts(until: until, t: t) }
                page.errors["password"] = t["auth_password_wrong"]
            }
        } else {
            if page.name.databaseLength > 200 { page.errors["name"] = t["form_too_long"] }
            if let problem = PasswordPolicy.problem(with: password) { page.errors["password"] = t[problem] }
            if password != context.form.raw("confirm") { page.errors["confirm"] = t["password_mismatch"] }
            if page.errors.isEmpty { newHash = try await hasher.hashOffLoop(password) }
        }
        if !page.errors.isEmpty {
            return panels.authPage(
                "pages/identity/invite", page, context: context, titleKey: "auth_invite_title", status: .unprocessableContent
            ).response
        }
        let name = page.name
        let audit = SignIn.entry(
            nil, site: .tenant(tenant), action: "team.joined", target: email, details: ["role": role.rawValue],
            address: context.clientAddress)
        let joined: UserRecord? = try await database.transaction(logger: context.logger) { transaction in
            guard try await tokens.consume(token, purpose: .invite, on: transaction) != nil else { return nil }
            var user = try await users.findOrCreate(email: email, name: name, on: transaction)
            if let newHash {
                try await users.setPassword(userID: user.id, hash: newHash, on: transaction)
                if !name.isEmpty {
                    try await users.setName(userID: user.id, name: name, on: transaction)
                    user.name = name
                }
            }
            // An invitation adds a member; it never changes the role of someone already on the team.
            try await users.join(userID: user.id, tenantID: tenant.id, role: role, on: transaction)
            var entry = audit
            entry.actorID = user.id
            entry.actorEmail = user.email
            try await auditLog.record(entry, on: transaction)
            return user
        }
        guard let joined else { return invalid(context) }
        var response = Response.redirect(to: PanelURL.home.path, type: .normal)
        try await SignIn(sessions: sessions).start(
            for: joined, on: &response, context: context, request: request, flash: Flash(.success, t["auth_joined"] ?? ""))
        return response
    }

    private func invalid(_ context: AppRequestContext) -> Response {
        panels.authPage("pages/identity/invite", InvitePage(invalid: true), context: context, titleKey: "auth_invite_title", status: .gone)
            .response
    }
}

import Foundation
import Hummingbird

/// Signing in and out, on every host's panel.
public struct SignInController: Sendable {
    let users: UserStore
    let throttle: LoginThrottle
    let hasher: PasswordHasher
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer
    /// Signing out of a shop's panel ends the operator's presence in its inbox at once (not 90 s later).
    let presence: PresenceStore?

    public init(
        users: UserStore, throttle: LoginThrottle, hasher: PasswordHasher, sessions: SessionStore, auditLog: AuditLog,
        panels: PanelRenderer,
        presence: PresenceStore? = nil
    ) {
        self.presence = presence
        self.users = users
        self.throttle = throttle
        self.hasher = hasher
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PublicPanelRoutes) {
        routes.get(.login, use: loginForm)
        routes.post(.login, use: login)
        routes.post(.logout, use: logout)
    }

    struct LoginPage {
        var email = ""
        var next = ""
        var error: String?
        var notice: String?
        var errors: [String: String] = [:]
    }

    @Sendable func loginForm(request: Request, context: AppRequestContext) async throws -> Response {
        if let identity = context.identity, let site = context.site, Access(roles: identity.roles, site: site).role != nil {
            return .redirect(to: PanelURL.home.path, type: .normal)
        }
        var page = LoginPage(next: SignIn.safeNext(request.uri.queryParameters.get("next").map { String($0) }))
        let t = panels.localizer.catalog(context.panelLanguage)
        if request.uri.queryParameters.get("reset") == "1" { page.notice = t["auth_reset_done"] }
        if request.uri.queryParameters.get("signedout") == "1" { page.notice = t["auth_signed_out"] }
        return render(page, status: .ok, context)
    }

    @Sendable func login(request: Request, context: AppRequestContext) async throws -> Response {
        let t = panels.localizer.catalog(context.panelLanguage)
        let email = EmailAddress.normalize(context.form.text("email"))
        let password = context.form.raw("password")
        var page = LoginPage(email: email, next: SignIn.safeNext(context.form["next"]))
        if !EmailAddress.isValid(email) { page.errors["email"] = t["form_email_invalid"] }
        if password.isEmpty { page.errors["password"] = t["form_required"] }
        if !page.errors.isEmpty { return render(page, status: .unprocessableContent, context) }
        guard let site = context.site else { throw HTTPError(.notFound) }

        // The attempt is counted before the password is checked, and a running wait refuses without checking it: a
        // correct password does not shorten a wait, and parallel guesses cannot slip past the count.
        let attempt = try await throttle.reserve(email: email, address: context.clientAddress)
        if let until = attempt.refusedUntil { throw SignIn.tooManyAttempts(until: until, t: t) }
        let user = try await users.find(email: email)
        let verified = try await hasher.verifyOffLoop(password, against: user?.passwordHash)
        // An account without a role here gets the same answer as a wrong password: this host confirms nothing.
        let roles = verified ? try await users.roles(userID: user?.id ?? UUID(), site: site) : []
        guard verified, let user, let hash = user.passwordHash, Access(roles: roles, site: site).role != nil else {
            var failed = SignIn.entry(nil, site: site, action: "auth.login_failed", address: context.clientAddress)
            failed.actorEmail = email
            try await auditLog.record(failed)
            if let until = attempt.waitIfWrong { throw SignIn.tooManyAttempts(until: until, t: t) }
            page.error = t["auth_login_failed"]
            return render(page, status: .unauthorized, context)
        }
        try await throttle.succeeded(email: email, address: context.clientAddress)
        if hasher.needsRehash(hash) {
            try await users.setPassword(userID: user.id, hash: try await hasher.hashOffLoop(password))
        }
        var response = Response.redirect(to: page.next.isEmpty ? PanelURL.home.path : page.next, type: .normal)
        try await SignIn(sessions: sessions).start(for: user, on: &response, context: context, request: request)
        try await auditLog.record(SignIn.entry(user, site: site, action: "auth.login", address: context.clientAddress))
        return response
    }

    @Sendable func logout(request: Request, context: AppRequestContext) async throws -> Response {
        if let token = context.sessionToken { try await sessions.delete(token: token) }
        if let user = context.identity?.user, let site = context.site {
            try await auditLog.record(SignIn.entry(user, site: site, action: "auth.logout", address: context.clientAddress))
            if case .tenant(let tenant) = site { try await presence?.leave(user: user.id, tenant: tenant.id) }
        }
        var response = Response.redirect(to: PanelURL.login.path(query: [("signedout", "1")]), type: .normal)
        let names = CookieNames(secure: context.isSecure)
        response.setCookie(names.expired(names.session))
        return response
    }

    private func render(_ page: LoginPage, status: HTTPResponse.Status, _ context: AppRequestContext) -> Response {
        panels.authPage("pages/identity/login", page, context: context, titleKey: "auth_login_title", status: status).response
    }
}

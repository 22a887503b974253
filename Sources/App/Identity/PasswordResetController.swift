import Foundation
import Hummingbird

/// "Forgot your password?": a link by e-mail (only to an account with a role on this host), and the page it opens to
/// choose a new password, which ends every session of the account.
public struct PasswordResetController: Sendable {
    let database: Database
    let users: UserStore
    let tokens: OneTimeTokens
    let hasher: PasswordHasher
    let sessions: SessionStore
    let outbox: Outbox
    let mail: MailComposer
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        database: Database, users: UserStore, tokens: OneTimeTokens, hasher: PasswordHasher, sessions: SessionStore, outbox: Outbox,
        mail: MailComposer, auditLog: AuditLog, panels: PanelRenderer
    ) {
        self.database = database
        self.users = users
        self.tokens = tokens
        self.hasher = hasher
        self.sessions = sessions
        self.outbox = outbox
        self.mail = mail
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PublicPanelRoutes) {
        routes.get(.forgot, use: forgotForm)
        routes.post(.forgot, use: forgot)
        routes.get(.reset, use: resetForm)
        routes.post(.reset, use: reset)
    }

    struct ForgotPage {
        var email = ""
        var sent = false
        var errors: [String: String] = [:]
    }

    @Sendable func forgotForm(request: Request, context: AppRequestContext) async throws -> Response {
        panels.authPage("pages/identity/forgot", ForgotPage(), context: context, titleKey: "auth_forgot_title").response
    }

    /// Always answers the same way, whether or not the address has an account.
    @Sendable func forgot(request: Request, context: AppRequestContext) async throws -> Response {
        let language = context.panelLanguage
        let t = panels.localizer.catalog(language)
        let email = EmailAddress.normalize(context.form.text("email"))
        var page = ForgotPage(email: email)
        guard EmailAddress.isValid(email) else {
            page.errors["email"] = t["form_email_invalid"]
            return panels.authPage(
                "pages/identity/forgot", page, context: context, titleKey: "auth_forgot_title", status: .unprocessableContent
            ).response
        }
        guard let site = context.site else { throw HTTPError(.notFound) }
        // Only for an account with a role on this host: a reset link never points at a host the account does not use.
        if let user = try await users.find(email: email),
            Access(roles: try await users.roles(userID: user.id, site: site), site: site).role != nil,
            try await !tokens.resetRecentlySent(userID: user.id)
        {
            let origin = context.origin()
            let audit = SignIn.entry(user, site: site, action: "auth.reset_requested", address: context.clientAddress)
            try await database.transaction(logger: context.logger) { transaction in
                let token = try await tokens.issue(OneTimeToken(purpose: .reset, userID: user.id, email: email), on: transaction)
                let message = mail.passwordReset(
                    to: email, siteName: PanelRenderer.siteName(site), link: origin + PanelURL.reset.path(query: [("token", token)]),
                    branding: site.branding, origin: origin, language: user.language ?? language)
                try await outbox.enqueue(
                    OutgoingMail(
                        to: email, subject: message.subject, text: message.text, html: message.html,
                        partnerID: site.membershipScope.partner, tenantID: site.membershipScope.tenant, branding: site.branding),
                    on: transaction)
                try await auditLog.record(audit, on: transaction)
            }
        }
        page.sent = true
        return panels.authPage("pages/identity/forgot", page, context: context, titleKey: "auth_forgot_title").response
    }

    struct ResetPage {
        var token = ""
        var invalid = false
        var errors: [String: String] = [:]
    }

    @Sendable func resetForm(request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token").map { String($0) } ?? ""
        let valid = try await tokens.peek(token, purpose: .reset) != nil
        return panels.authPage(
            "pages/identity/reset", ResetPage(token: valid ? token : "", invalid: !valid), context: context, titleKey: "auth_reset_title",
            status: valid ? .ok : .gone
        ).response
    }

    @Sendable func reset(request: Request, context: AppRequestContext) async throws -> Response {
        let t = panels.localizer.catalog(context.panelLanguage)
        let token = context.form.text("token")
        var page = ResetPage(token: token)
        let password = context.form.raw("password")
        if let problem = PasswordPolicy.problem(with: password) { page.errors["password"] = t[problem] }
        if password != context.form.raw("confirm") { page.errors["confirm"] = t["password_mismatch"] }
        if !page.errors.isEmpty {
            return panels.authPage(
                "pages/identity/reset", page, context: context, titleKey: "auth_reset_title", status: .unprocessableContent
            ).response
        }
        guard try await tokens.peek(token, purpose: .reset) != nil else { return gone(context) }
        let hash = try await hasher.hashOffLoop(password)
        let site = context.site ?? .platform(PlatformRecord())
        let address = context.clientAddress
        let used: UUID? = try await database.transaction(logger: context.logger) { transaction in
            guard let claim = try await tokens.consume(token, purpose: .reset, on: transaction), let userID = claim.userID else {
                return nil
            }
            try await users.setPassword(userID: userID, hash: hash, on: transaction)
            // A new password ends every session: whoever knew the old one is signed out too.
            try await sessions.deleteAll(userID: userID, on: transaction)
            try await tokens.revokeResets(userID: userID, on: transaction)
            var audit = SignIn.entry(nil, site: site, action: "auth.password_reset", address: address)
            audit.actorID = userID
            audit.actorEmail = claim.email
            try await auditLog.record(audit, on: transaction)
            return userID
        }
        guard used != nil else { return gone(context) }
        return .redirect(to: PanelURL.login.path(query: [("reset", "1")]), type: .normal)
    }

    private func gone(_ context: AppRequestContext) -> Response {
        panels.authPage("pages/identity/reset", ResetPage(invalid: true), context: context, titleKey: "auth_reset_title", status: .gone)
            .response
    }
}

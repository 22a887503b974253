import Foundation
import Hummingbird
import Logging

/// Signing in and out, forgotten passwords, invitations and the hand-off from a partner's panel, on every host.
public struct AuthController: Sendable {
    let identity: IdentityServices
    let panels: PanelRenderer
    let mail: MailComposer
    let directory: TenantDirectory

    public init(identity: IdentityServices, panels: PanelRenderer, mail: MailComposer, directory: TenantDirectory) {
        self.identity = identity
        self.panels = panels
        self.mail = mail
        self.directory = directory
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("login", use: loginForm)
        group.post("login", use: login)
        group.post("logout", use: logout)
        group.get("forgot", use: forgotForm)
        group.post("forgot", use: forgot)
        group.get("reset", use: resetForm)
        group.post("reset", use: reset)
        group.get("invite", use: inviteForm)
        group.post("invite", use: acceptInvitation)
        group.get("handoff", use: handoff)
    }

    // MARK: Sign in and out

    struct LoginPage {
        var email = ""
        var next = ""
        var error: String?
        var notice: String?
        var errors: [String: String] = [:]
    }

    @Sendable func loginForm(request: Request, context: AppRequestContext) async throws -> Response {
        if context.identity != nil, (try? context.signedIn(request: request)) != nil {
            return .redirect(to: "/admin", type: .normal)
        }
        var page = LoginPage(next: Self.safeNext(request.uri.queryParameters.get("next")))
        let t = panels.localizer.catalog(context.language(request: request))
        if request.uri.queryParameters.get("reset") == "1" { page.notice = t["auth_reset_done"] }
        if request.uri.queryParameters.get("signedout") == "1" { page.notice = t["auth_signed_out"] }
        return try panels.authPage("pages/auth/login", page, context: context, request: request, titleKey: "auth_login_title")
            .response(from: request, context: context)
    }

    @Sendable func login(request: Request, context: AppRequestContext) async throws -> Response {
        let t = panels.localizer.catalog(context.language(request: request))
        let email = EmailAddress.normalize(context.form.text("email"))
        let password = context.form.raw("password")
        var page = LoginPage(email: email, next: Self.safeNext(context.form["next"]))
        if !EmailAddress.isValid(email) { page.errors["email"] = t["form_email_invalid"] }
        if password.isEmpty { page.errors["password"] = t["form_required"] }
        if !page.errors.isEmpty { return try render(page, status: .unprocessableContent, request, context) }
        guard let site = context.site else { throw HTTPError(.notFound) }

        // The attempt is counted before the password is checked, and a running wait refuses without checking it: a
        // correct password does not shorten a wait, and parallel guesses cannot slip past the count.
        let attempt = try await identity.throttle.reserve(email: email, address: context.clientAddress)
        if let until = attempt.refusedUntil { throw tooManyAttempts(until: until, t: t) }
        let user = try await identity.users.find(email: email)
        let verified = try await identity.hasher.verifyOffLoop(password, against: user?.passwordHash)
        // An account without a role here gets the same answer as a wrong password: this host confirms nothing.
        let roles = verified ? try await identity.roles(userID: user?.id ?? UUID(), site: site) : []
        guard verified, let user, let hash = user.passwordHash, Access(roles: roles, site: site).role != nil else {
            try await identity.audit(failedSignIn(email: email, site: site, address: context.clientAddress))
            if let until = attempt.waitIfWrong { throw tooManyAttempts(until: until, t: t) }
            page.error = t["auth_login_failed"]
            return try render(page, status: .unauthorized, request, context)
        }
        try await identity.throttle.succeeded(email: email, address: context.clientAddress)
        if identity.hasher.needsRehash(hash) {
            try await identity.users.setPassword(userID: user.id, hash: try await identity.hasher.hashOffLoop(password))
        }
        var response = Response.redirect(to: page.next.isEmpty ? "/admin" : page.next, type: .normal)
        try await startSession(for: user, on: &response, context: context, request: request)
        try await identity.audit(entry(user, site: site, action: "auth.login", context: context))
        return response
    }

    @Sendable func logout(request: Request, context: AppRequestContext) async throws -> Response {
        if let token = context.sessionToken { try await identity.sessions.delete(token: token) }
        if let user = context.identity?.user, let site = context.site {
            try await identity.audit(entry(user, site: site, action: "auth.logout", context: context))
        }
        var response = Response.redirect(to: "/admin/login?signedout=1", type: .normal)
        let names = CookieNames(secure: context.isSecure)
        response.setCookie(names.expired(names.session))
        return response
    }

    // MARK: Forgotten password

    struct ForgotPage {
        var email = ""
        var sent = false
        var errors: [String: String] = [:]
    }

    @Sendable func forgotForm(request: Request, context: AppRequestContext) async throws -> Response {
        try panels.authPage("pages/auth/forgot", ForgotPage(), context: context, request: request, titleKey: "auth_forgot_title")
            .response(from: request, context: context)
    }

    /// Always answers the same way, whether or not the address has an account.
    @Sendable func forgot(request: Request, context: AppRequestContext) async throws -> Response {
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        let email = EmailAddress.normalize(context.form.text("email"))
        var page = ForgotPage(email: email)
        guard EmailAddress.isValid(email) else {
            page.errors["email"] = t["form_email_invalid"]
            return try panels.authPage(
                "pages/auth/forgot", page, context: context, request: request, titleKey: "auth_forgot_title", status: .unprocessableContent
            ).response(from: request, context: context)
        }
        guard let site = context.site else { throw HTTPError(.notFound) }
        // Only for an account with a role on this host: a reset link never points at a host the account does not use.
        if let user = try await identity.users.find(email: email),
            Access(roles: try await identity.roles(userID: user.id, site: site), site: site).role != nil,
            try await !recentlySent(userID: user.id)
        {
            let origin = context.origin()
            try await identity.database.client.platformTransaction(logger: identity.logger) { connection in
                let token = try await OneTimeTokens.issue(
                    OneTimeToken(purpose: .reset, userID: user.id, email: email), on: connection, logger: identity.logger)
                let message = mail.passwordReset(
                    to: email, siteName: PanelRenderer.siteName(site), link: origin + "/admin/reset?token=" + token,
                    branding: site.branding, origin: origin, language: user.language ?? language)
                try await identity.outbox.enqueue(
                    OutgoingMail(
                        to: email, subject: message.subject, text: message.text, html: message.html,
                        partnerID: site.membershipScope.partner, tenantID: site.membershipScope.tenant, branding: site.branding),
                    on: connection)
                try await AuditLog.record(
                    entry(user, site: site, action: "auth.reset_requested", context: context), on: connection, logger: identity.logger)
            }
        }
        page.sent = true
        return try panels.authPage("pages/auth/forgot", page, context: context, request: request, titleKey: "auth_forgot_title")
            .response(from: request, context: context)
    }

    /// One reset e-mail a minute per account is enough; more would let anyone flood someone's mailbox.
    private func recentlySent(userID: UUID) async throws -> Bool {
        let rows = try await identity.client.query(
            """
            SELECT 1 FROM platform.one_time_tokens
            WHERE user_id = \(userID) AND purpose = 'reset' AND created_at > now() - interval '1 minute' LIMIT 1
            """, logger: identity.logger)
        for try await _ in rows { return true }
        return false
    }

    struct ResetPage {
        var token = ""
        var invalid = false
        var errors: [String: String] = [:]
    }

    @Sendable func resetForm(request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token").map { String($0) } ?? ""
        let valid = try await OneTimeTokens.peek(token, purpose: .reset, on: identity.client, logger: identity.logger) != nil
        return try panels.authPage(
            "pages/auth/reset", ResetPage(token: valid ? token : "", invalid: !valid), context: context, request: request,
            titleKey: "auth_reset_title", status: valid ? .ok : .gone
        ).response(from: request, context: context)
    }

    @Sendable func reset(request: Request, context: AppRequestContext) async throws -> Response {
        let t = panels.localizer.catalog(context.language(request: request))
        let token = context.form.text("token")
        var page = ResetPage(token: token)
        let password = context.form.raw("password")
        if let problem = PasswordPolicy.problem(with: password) { page.errors["password"] = t[problem] }
        if password != context.form.raw("confirm") { page.errors["confirm"] = t["password_mismatch"] }
        if !page.errors.isEmpty {
            return try panels.authPage(
                "pages/auth/reset", page, context: context, request: request, titleKey: "auth_reset_title", status: .unprocessableContent
            ).response(from: request, context: context)
        }
        guard try await OneTimeTokens.peek(token, purpose: .reset, on: identity.client, logger: identity.logger) != nil else {
            return try panels.authPage(
                "pages/auth/reset", ResetPage(invalid: true), context: context, request: request, titleKey: "auth_reset_title",
                status: .gone
            ).response(from: request, context: context)
        }
        let hash = try await identity.hasher.hashOffLoop(password)
        let site = context.site ?? .platform
        let used: UUID? = try await identity.database.client.platformTransaction(logger: identity.logger) { connection in
            guard let claim = try await OneTimeTokens.consume(token, purpose: .reset, on: connection, logger: identity.logger),
                let userID = claim.userID
            else { return nil }
            try await UserStore.setPassword(userID: userID, hash: hash, on: connection, logger: identity.logger)
            // A new password ends every session: whoever knew the old one is signed out too.
            try await connection.query("DELETE FROM platform.sessions WHERE user_id = \(userID)", logger: identity.logger)
            try await connection.query(
                "UPDATE platform.one_time_tokens SET revoked_at = now() WHERE user_id = \(userID) AND purpose = 'reset' AND used_at IS NULL",
                logger: identity.logger)
            var audit = entry(nil, site: site, action: "auth.password_reset", context: context)
            audit.actorID = userID
            audit.actorEmail = claim.email
            try await AuditLog.record(audit, on: connection, logger: identity.logger)
            return userID
        }
        guard used != nil else {
            return try panels.authPage(
                "pages/auth/reset", ResetPage(invalid: true), context: context, request: request, titleKey: "auth_reset_title",
                status: .gone
            ).response(from: request, context: context)
        }
        return .redirect(to: "/admin/login?reset=1", type: .normal)
    }

    // MARK: Invitations

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
    private func invitation(_ token: String, context: AppRequestContext) async throws -> (OneTimeToken, TenantRecord)? {
        guard case .tenant(let tenant) = context.site,
            let claim = try await OneTimeTokens.peek(token, purpose: .invite, on: identity.client, logger: identity.logger),
            claim.tenantID == tenant.id, claim.email != nil, claim.role != nil
        else { return nil }
        return (claim, tenant)
    }

    @Sendable func inviteForm(request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token").map { String($0) } ?? ""
        let t = panels.localizer.catalog(context.language(request: request))
        guard let (claim, tenant) = try await invitation(token, context: context), let email = claim.email, let role = claim.role else {
            return try panels.authPage(
                "pages/auth/invite", InvitePage(invalid: true), context: context, request: request, titleKey: "auth_invite_title",
                status: .gone
            ).response(from: request, context: context)
        }
        let existing = try await identity.users.find(email: email)?.passwordHash != nil
        let page = InvitePage(
            token: token, email: email, siteName: tenant.name, roleLabel: t[role.textKey] ?? role.rawValue, existing: existing)
        return try panels.authPage("pages/auth/invite", page, context: context, request: request, titleKey: "auth_invite_title")
            .response(from: request, context: context)
    }

    @Sendable func acceptInvitation(request: Request, context: AppRequestContext) async throws -> Response {
        let t = panels.localizer.catalog(context.language(request: request))
        let token = context.form.text("token")
        guard let (claim, tenant) = try await invitation(token, context: context), let email = claim.email, let role = claim.role else {
            return try panels.authPage(
                "pages/auth/invite", InvitePage(invalid: true), context: context, request: request, titleKey: "auth_invite_title",
                status: .gone
            ).response(from: request, context: context)
        }
        let existingUser = try await identity.users.find(email: email)
        let existing = existingUser?.passwordHash != nil
        var page = InvitePage(
            token: token, email: email, siteName: tenant.name, roleLabel: t[role.textKey] ?? role.rawValue, existing: existing,
            name: context.form.text("name"))
        let password = context.form.raw("password")
        var newHash: String?
        if existing {
            let attempt = try await identity.throttle.reserve(email: email, address: context.clientAddress)
            if let until = attempt.refusedUntil { throw tooManyAttempts(until: until, t: t) }
            if try await identity.hasher.verifyOffLoop(password, against: existingUser?.passwordHash) {
                try await identity.throttle.succeeded(email: email, address: context.clientAddress)
            } else {
                if let until = attempt.waitIfWrong { throw tooManyAttempts(until: until, t: t) }
                page.errors["password"] = t["auth_password_wrong"]
            }
        } else {
            if page.name.databaseLength > 200 { page.errors["name"] = t["form_too_long"] }
            if let problem = PasswordPolicy.problem(with: password) { page.errors["password"] = t[problem] }
            if password != context.form.raw("confirm") { page.errors["confirm"] = t["password_mismatch"] }
            if page.errors.isEmpty { newHash = try await identity.hasher.hashOffLoop(password) }
        }
        if !page.errors.isEmpty {
            return try panels.authPage(
                "pages/auth/invite", page, context: context, request: request, titleKey: "auth_invite_title", status: .unprocessableContent
            ).response(from: request, context: context)
        }
        let name = page.name
        let joined: UserRecord? = try await identity.database.client.platformTransaction(logger: identity.logger) { connection in
            guard try await OneTimeTokens.consume(token, purpose: .invite, on: connection, logger: identity.logger) != nil else {
                return nil
            }
            var user = try await UserStore.findOrCreate(email: email, name: name, on: connection, logger: identity.logger)
            if let newHash {
                try await UserStore.setPassword(userID: user.id, hash: newHash, on: connection, logger: identity.logger)
                if !name.isEmpty {
                    try await connection.query("UPDATE platform.users SET name = \(name) WHERE id = \(user.id)", logger: identity.logger)
                    user.name = name
                }
            }
            // An invitation adds a member; it never changes the role of someone already on the team.
            try await connection.query(
                """
                INSERT INTO platform.memberships (user_id, tenant_id, role) VALUES (\(user.id), \(tenant.id), \(role.rawValue))
                ON CONFLICT DO NOTHING
                """, logger: identity.logger)
            try await AuditLog.record(
                entry(
                    user, site: .tenant(tenant), action: "team.joined", target: email, details: ["role": role.rawValue], context: context),
                on: connection, logger: identity.logger)
            return user
        }
        guard let joined else {
            return try panels.authPage(
                "pages/auth/invite", InvitePage(invalid: true), context: context, request: request, titleKey: "auth_invite_title",
                status: .gone
            ).response(from: request, context: context)
        }
        var response = Response.redirect(to: "/admin", type: .normal)
        try await startSession(
            for: joined, on: &response, context: context, request: request, flash: Flash(.success, t["auth_joined"] ?? ""))
        return response
    }

    // MARK: Hand-off from a partner's or the platform's panel

    /// Signs a user in on this host with a one-time token made for it by another panel; cookies never cross hosts.
    @Sendable func handoff(request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters.get("token").map { String($0) } ?? ""
        if case .tenant(let tenant) = context.site,
            let claim = try await OneTimeTokens.consume(token, purpose: .impersonate, on: identity.client, logger: identity.logger)
        {
            return try await supportSignIn(claim, tenant: tenant, request: request, context: context)
        }
        guard case .tenant(let tenant) = context.site,
            let claim = try await OneTimeTokens.consume(token, purpose: .handoff, on: identity.client, logger: identity.logger),
            claim.tenantID == tenant.id, let userID = claim.userID, let user = try await identity.users.find(id: userID),
            Access(roles: try await identity.roles(userID: userID, site: .tenant(tenant)), site: .tenant(tenant)).role != nil
        else {
            throw RefusalError(.forbidden, messageKey: "error_handoff_invalid")
        }
        var response = Response.redirect(to: "/admin", type: .normal)
        try await startSession(for: user, on: &response, context: context, request: request)
        try await identity.audit(entry(user, site: .tenant(tenant), action: "auth.handoff", context: context))
        return response
    }

    /// A support sign-in: a session as the shop's person, remembering the staff member and the reason, for 30 minutes.
    private func supportSignIn(
        _ claim: OneTimeToken, tenant: TenantRecord, request: Request, context: AppRequestContext
    ) async throws
        -> Response
    {
        let site = Site.tenant(tenant)
        guard claim.tenantID == tenant.id, let userID = claim.userID, let staffID = claim.createdBy,
            let user = try await identity.users.find(id: userID), let staff = try await identity.users.find(id: staffID),
            Access(roles: try await identity.roles(userID: staffID, site: site), site: site).role != nil
        else {
            throw RefusalError(.forbidden, messageKey: "error_handoff_invalid")
        }
        let reason = claim.note ?? ""
        var response = Response.redirect(to: "/admin", type: .normal)
        try await startSession(
            for: user, on: &response, context: context, request: request,
            impersonator: (staff.id, reason, OperatorController.supportSessionLifetime))
        var audit = entry(user, site: site, action: "support.signed_in", target: user.email, details: ["support": reason], context: context)
        audit.actorID = staff.id
        audit.actorEmail = staff.email + " → " + user.email
        try await identity.audit(audit)
        return response
    }

    // MARK: Helpers

    /// A new session (never the one the browser brought), its cookie set on the response.
    private func startSession(
        for user: UserRecord, on response: inout Response, context: AppRequestContext, request: Request, flash: Flash? = nil,
        impersonator: (id: UUID, reason: String, lifetime: Duration)? = nil
    ) async throws {
        let token = try await identity.sessions.create(
            userID: user.id, host: context.host, address: context.clientAddress, userAgent: request.headers[.userAgent],
            replacing: context.sessionToken, impersonator: impersonator, flash: flash)
        let names = CookieNames(secure: context.isSecure)
        response.setCookie(names.cookie(names.session, value: token))
    }

    private func render(_ page: LoginPage, status: HTTPResponse.Status, _ request: Request, _ context: AppRequestContext) throws -> Response
    {
        try panels.authPage("pages/auth/login", page, context: context, request: request, titleKey: "auth_login_title", status: status)
            .response(from: request, context: context)
    }

    private func tooManyAttempts(until: Date, t: [String: String]) -> RefusalError {
        let seconds = max(1, Int(until.timeIntervalSinceNow.rounded(.up)))
        let wait = seconds < 120 ? (t["time_seconds"] ?? "%n s") : (t["time_minutes"] ?? "%n min")
        let amount = seconds < 120 ? seconds : (seconds + 59) / 60
        return RefusalError(
            .tooManyRequests, messageKey: "error_429_login",
            detail: (t["auth_retry_in"] ?? "%t").replacingOccurrences(
                of: "%t", with: wait.replacingOccurrences(of: "%n", with: "\(amount)")),
            retryAfter: seconds)
    }

    private func entry(
        _ user: UserRecord?, site: Site, action: String, target: String = "", details: [String: String] = [:], context: AppRequestContext
    ) -> AuditEntry {
        AuditEntry(
            actorID: user?.id, actorEmail: user?.email, partnerID: site.membershipScope.partner, tenantID: site.membershipScope.tenant,
            action: action, target: target, details: details, address: context.clientAddress)
    }

    private func failedSignIn(email: String, site: Site, address: String?) -> AuditEntry {
        AuditEntry(
            actorID: nil, actorEmail: email, partnerID: site.membershipScope.partner, tenantID: site.membershipScope.tenant,
            action: "auth.login_failed", address: address)
    }

    /// Where to go after sign-in: only a path inside the panel, never another site.
    static func safeNext(_ value: String?) -> String {
        guard let value, value.hasPrefix("/admin"), !value.hasPrefix("//"), !value.contains("\\"), !value.contains("://"),
            value.count < 500
        else { return "" }
        return value
    }
}

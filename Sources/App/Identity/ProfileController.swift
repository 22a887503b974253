import Foundation
import Hummingbird

/// The signed-in user's own page: name, language, password (asks for the current one), signing out everywhere.
public struct ProfileController: Sendable {
    let users: UserStore
    let throttle: LoginThrottle
    let hasher: PasswordHasher
    let tokens: OneTimeTokens
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        users: UserStore, throttle: LoginThrottle, hasher: PasswordHasher, tokens: OneTimeTokens, sessions: SessionStore,
        auditLog: AuditLog, panels: PanelRenderer
    ) {
        self.users = users
        self.throttle = throttle
        self.hasher = hasher
        self.tokens = tokens
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.profile, use: show)
        routes.post(.profile, use: update)
        routes.post(.profilePassword, use: changePassword)
        routes.post(.signOutEverywhere, use: signOutEverywhere)
    }

    struct ProfilePage {
        var name: String
        var email: String
        var languages: [SelectOption]
        var sessions: String
        var errors: [String: String] = [:]
        var action = PanelURL.profile.path
        var passwordURL = PanelURL.profilePassword.path
        var signOutURL = PanelURL.signOutEverywhere.path
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        try await render(context: context)
    }

    private func render(
        context: PanelRequestContext, name: String? = nil, errors: [String: String] = [:], status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let panel = context.panel
        let language = panel.language
        let t = panels.texts(context)
        let chosen = panel.user.user.language ?? ""
        let sessionCount = try await sessions.count(userID: panel.user.user.id)
        let page = ProfilePage(
            name: name ?? panel.user.user.name, email: panel.user.user.email,
            languages: [("", t["profile_language_auto"] ?? ""), ("ru", "Русский"), ("en", "English")].map {
                SelectOption(value: $0.0, label: $0.1, selected: $0.0 == chosen)
            },
            sessions: (t["profile_sessions"] ?? "%n").replacingOccurrences(
                of: "%n", with: NumberText.format(sessionCount, language: language)),
            errors: errors)
        return panels.page(
            "pages/identity/profile", page, context: context, title: t["nav_profile"] ?? "", current: .profile, status: status)
    }

    @Sendable func update(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let t = panels.texts(context)
        let name = context.form.text("name")
        let language = context.form.text("language")
        guard language.isEmpty || Localizer.supported.contains(language) else { throw HTTPError(.badRequest) }
        if name.databaseLength > 200 {
            return try await render(
                context: context, name: name, errors: ["name": t["form_too_long"] ?? ""], status: .unprocessableContent
            ).response
        }
        try await users.updateProfile(userID: panel.user.user.id, name: name, language: language.isEmpty ? nil : language)
        try await auditLog.record(panel.audit("profile.updated", target: panel.user.user.email))
        let saved = panels.localizer.catalog(language.isEmpty ? panel.language : language)["profile_saved"] ?? ""
        try await sessions.setFlash(Flash(.success, saved), sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.profile.path, type: .normal)
    }

    @Sendable func changePassword(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let t = panels.texts(context)
        let current = context.form.raw("current")
        let password = context.form.raw("password")
        var errors: [String: String] = [:]
        let user = try await users.find(id: panel.user.user.id)
        // Guessing the current password is throttled like signing in: a stolen session must not become the password.
        let attempt = try await throttle.reserve(email: panel.user.user.email, address: panel.address)
        if attempt.refusedUntil != nil { throw RefusalError(.tooManyRequests, messageKey: "error_429_login") }
        if try await hasher.verifyOffLoop(current, against: user?.passwordHash) {
            try await throttle.succeeded(email: panel.user.user.email, address: panel.address)
        } else {
            errors["current"] = t["auth_password_wrong"]
        }
        if let problem = PasswordPolicy.problem(with: password) { errors["password"] = t[problem] }
        if password != context.form.raw("confirm") { errors["confirm"] = t["password_mismatch"] }
        if !errors.isEmpty {
            return try await render(context: context, errors: errors, status: .unprocessableContent).response
        }
        try await users.setPassword(userID: panel.user.user.id, hash: try await hasher.hashOffLoop(password))
        // Other browsers signed in with the old password are signed out; this one stays.
        try await sessions.deleteAll(userID: panel.user.user.id, except: panel.user.sessionID)
        try await tokens.revokeResets(userID: panel.user.user.id)
        try await auditLog.record(panel.audit("profile.password_changed", target: panel.user.user.email))
        try await sessions.setFlash(Flash(.success, t["profile_password_changed"] ?? ""), sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.profile.path, type: .normal)
    }

    @Sendable func signOutEverywhere(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let count = try await sessions.deleteAll(userID: panel.user.user.id)
        try await auditLog.record(
            panel.audit("auth.signed_out_everywhere", target: panel.user.user.email, details: ["sessions": "\(count)"]))
        var response = Response.redirect(to: PanelURL.login.path(query: [("signedout", "1")]), type: .normal)
        let names = CookieNames(secure: context.isSecure)
        response.setCookie(names.expired(names.session))
        return response
    }
}

import Foundation
import Hummingbird

/// The signed-in user's own page: name, language, password (asks for the current one), signing out everywhere.
public struct ProfileController: Sendable {
    let identity: IdentityServices
    let panels: PanelRenderer

    public init(identity: IdentityServices, panels: PanelRenderer) {
        self.identity = identity
        self.panels = panels
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("profile", use: show)
        group.post("profile", use: update)
        group.post("profile/password", use: changePassword)
        group.post("profile/sign-out-everywhere", use: signOutEverywhere)
    }

    struct ProfilePage {
        var name: String
        var email: String
        var languages: [SelectOption]
        var sessions: String
        var errors: [String: String] = [:]
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.signedIn(request: request)
        return try await render(panel, request: request, context: context)
    }

    private func render(
        _ panel: Panel, request: Request, context: AppRequestContext, name: String? = nil, errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        let chosen = panel.user.user.language ?? ""
        let sessions = try await identity.sessions.count(userID: panel.user.user.id)
        let page = ProfilePage(
            name: name ?? panel.user.user.name, email: panel.user.user.email,
            languages: [("", t["profile_language_auto"] ?? ""), ("ru", "Русский"), ("en", "English")].map {
                SelectOption(value: $0.0, label: $0.1, selected: $0.0 == chosen)
            },
            sessions: (t["profile_sessions"] ?? "%n").replacingOccurrences(of: "%n", with: NumberText.format(sessions, language: language)),
            errors: errors)
        return panels.page(
            "pages/admin/profile", page, panel: panel, context: context, request: request, title: t["nav_profile"] ?? "",
            section: "profile", status: status)
    }

    @Sendable func update(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.signedIn(request: request)
        let t = panels.localizer.catalog(context.language(request: request))
        let name = context.form.text("name")
        let language = context.form.text("language")
        guard language.isEmpty || Localizer.supported.contains(language) else { throw HTTPError(.badRequest) }
        if name.databaseLength > 200 {
            return try await render(
                panel, request: request, context: context, name: name, errors: ["name": t["form_too_long"] ?? ""],
                status: .unprocessableContent
            )
            .response(from: request, context: context)
        }
        try await identity.users.updateProfile(userID: panel.user.user.id, name: name, language: language.isEmpty ? nil : language)
        try await identity.audit(panel.audit("profile.updated", target: panel.user.user.email))
        let saved = panels.localizer.catalog(language.isEmpty ? context.language(request: request) : language)["profile_saved"] ?? ""
        try await identity.sessions.setFlash(Flash(.success, saved), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin/profile", type: .normal)
    }

    @Sendable func changePassword(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.signedIn(request: request)
        let t = panels.localizer.catalog(context.language(request: request))
        let current = context.form.raw("current")
        let password = context.form.raw("password")
        var errors: [String: String] = [:]
        let user = try await identity.users.find(id: panel.user.user.id)
        // Guessing the current password is throttled like signing in: a stolen session must not become the password.
        let attempt = try await identity.throttle.reserve(email: panel.user.user.email, address: panel.address)
        if attempt.refusedUntil != nil { throw RefusalError(.tooManyRequests, messageKey: "error_429_login") }
        if try await identity.hasher.verifyOffLoop(current, against: user?.passwordHash) {
            try await identity.throttle.succeeded(email: panel.user.user.email, address: panel.address)
        } else {
            errors["current"] = t["auth_password_wrong"]
        }
        if let problem = PasswordPolicy.problem(with: password) { errors["password"] = t[problem] }
        if password != context.form.raw("confirm") { errors["confirm"] = t["password_mismatch"] }
        if !errors.isEmpty {
            return try await render(panel, request: request, context: context, errors: errors, status: .unprocessableContent)
                .response(from: request, context: context)
        }
        try await identity.users.setPassword(userID: panel.user.user.id, hash: try await identity.hasher.hashOffLoop(password))
        // Other browsers signed in with the old password are signed out; this one stays.
        try await identity.sessions.deleteAll(userID: panel.user.user.id, except: panel.user.sessionID)
        try await identity.client.query(
            "UPDATE platform.one_time_tokens SET revoked_at = now() WHERE user_id = \(panel.user.user.id) AND purpose = 'reset' AND used_at IS NULL",
            logger: identity.logger)
        try await identity.audit(panel.audit("profile.password_changed", target: panel.user.user.email))
        try await identity.sessions.setFlash(Flash(.success, t["profile_password_changed"] ?? ""), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin/profile", type: .normal)
    }

    @Sendable func signOutEverywhere(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.signedIn(request: request)
        let count = try await identity.sessions.deleteAll(userID: panel.user.user.id)
        try await identity.audit(
            panel.audit("auth.signed_out_everywhere", target: panel.user.user.email, details: ["sessions": "\(count)"]))
        var response = Response.redirect(to: "/admin/login?signedout=1", type: .normal)
        let names = CookieNames(secure: context.isSecure)
        response.setCookie(names.expired(names.session))
        return response
    }
}

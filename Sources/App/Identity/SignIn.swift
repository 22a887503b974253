import Foundation
import Hummingbird

/// What the pages before sign-in share: starting a session (always a new one), their audit entries, and the answer
/// to an attempt that must wait.
struct SignIn: Sendable {
    let sessions: SessionStore

    /// A new session (never the one the browser brought), its cookie set on the response.
    func start(
        for user: UserRecord, on response: inout Response, context: AppRequestContext, request: Request, flash: Flash? = nil,
        impersonator: (id: UUID, reason: String, lifetime: Duration)? = nil
    ) async throws {
        let token = try await sessions.create(
            userID: user.id, host: context.host, address: context.clientAddress, userAgent: request.headers[.userAgent],
            replacing: context.sessionToken, impersonator: impersonator, flash: flash)
        let names = CookieNames(secure: context.isSecure)
        response.setCookie(names.cookie(names.session, value: token))
    }

    static func entry(
        _ user: UserRecord?, site: Site, action: String, target: String = "", details: [String: String] = [:], address: String?
    ) -> AuditEntry {
        AuditEntry(
            actorID: user?.id, actorEmail: user?.email, partnerID: site.membershipScope.partner, tenantID: site.membershipScope.tenant,
            action: action, target: target, details: details, address: address)
    }

    /// 429 with the time to wait, in the page's words.
    static func tooManyAttempts(until: Date, now: Date = Date(), t: [String: String]) -> RefusalError {
        let seconds = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
        let wait = seconds < 120 ? (t["time_seconds"] ?? "%n s") : (t["time_minutes"] ?? "%n min")
        let amount = seconds < 120 ? seconds : (seconds + 59) / 60
        return RefusalError(
            .tooManyRequests, messageKey: "error_429_login",
            detail: (t["auth_retry_in"] ?? "%t").replacingOccurrences(
                of: "%t", with: wait.replacingOccurrences(of: "%n", with: "\(amount)")),
            retryAfter: seconds)
    }

    /// Where to go after sign-in: only a path inside the panel, never another site.
    static func safeNext(_ value: String?) -> String {
        guard let value, value.hasPrefix(PanelURL.prefix), !value.hasPrefix("//"), !value.contains("\\"), !value.contains("://"),
            value.count < 500
        else { return "" }
        return value
    }
}

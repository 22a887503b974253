import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// On `/admin` routes: finds the signed-in user from the session cookie (one round trip) and checks the CSRF field of
/// every POST before any handler runs. Forms shown before sign-in carry a token bound to an anonymous cookie and the
/// host; every other form carries the session's own token.
public struct SessionMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    let sessions: SessionStore
    let secretKey: SecretKey
    static let maximumFormBytes = 1 << 20
    /// Three images of at most 512 KB and the branding form's text.
    static let maximumMultipartBytes = 3 * BrandImage.maximumBytes + (256 << 10)
    /// Forms a browser submits before anyone is signed in; they accept the anonymous token too.
    static let anonymousForms: Set<String> = Set([PanelURL.login, .forgot, .reset, .invite].map(\.path))

    public init(sessions: SessionStore, secretKey: SecretKey) {
        self.sessions = sessions
        self.secretKey = secretKey
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let names = CookieNames(secure: context.isSecure)
        if let token = request.cookies[names.session]?.value, let site = context.site, SecretToken.looksValid(token) {
            context.sessionToken = token
            let scope = site.membershipScope
            context.identity = try await sessions.load(token: token, host: context.host, tenantID: scope.tenant, partnerID: scope.partner)
        }
        var newAnonymousCookie = false
        if let value = request.cookies[names.csrf]?.value, SecretToken.looksValid(value) {
            context.anonymousCSRF = value
        } else if context.identity == nil {
            context.anonymousCSRF = SecretToken.make()
            newAnonymousCookie = true
        }
        if request.method == .post {
            context.form = try await Self.readForm(&request)
            try checkCSRF(request: request, context: context)
        }
        var response = try await next(request, context)
        if newAnonymousCookie, let value = context.anonymousCSRF {
            response.setCookie(names.cookie(names.csrf, value: value))
        }
        return response
    }

    static func readForm(_ request: inout Request) async throws -> FormData {
        let type = request.headers[.contentType] ?? ""
        let lowered = type.lowercased()
        if lowered.hasPrefix("multipart/form-data") {
            // Uploads (logos, favicons): a 512 KB file and the form around it.
            let boundary = FormData.parameter("boundary", in: type) ?? ""
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: maximumMultipartBytes)
            } catch {
                throw RefusalError(.contentTooLarge, messageKey: "error_form_too_large")
            }
            guard let form = FormData(multipart: Array(buffer: buffer), boundary: boundary) else {
                throw RefusalError(.badRequest, messageKey: "error_form_malformed")
            }
            return form
        }
        guard lowered.hasPrefix("application/x-www-form-urlencoded") else {
            throw RefusalError(.unsupportedMediaType, messageKey: "error_form_type")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maximumFormBytes)
        } catch {
            throw RefusalError(.contentTooLarge, messageKey: "error_form_too_large")
        }
        return FormData(urlEncoded: String(buffer: buffer))
    }

    func checkCSRF(request: Request, context: Context) throws {
        let submitted = context.form["_csrf"] ?? ""
        // Signing out of a session that has already ended (idle timeout) must still work: there is nothing to protect.
        if context.identity == nil, request.uri.path == PanelURL.logout.path { return }
        if let identity = context.identity, SecretToken.constantTimeEquals(submitted, identity.csrfToken) { return }
        if Self.anonymousForms.contains(request.uri.path), let cookie = context.anonymousCSRF,
            SecretToken.constantTimeEquals(submitted, CSRF.anonymousField(cookie: cookie, host: context.host, key: secretKey))
        {
            return
        }
        throw RefusalError(.forbidden, messageKey: "error_csrf_message")
    }
}

/// CSRF tokens for forms shown before sign-in: an HMAC of the anonymous cookie and the host under the installation's
/// key, so a token is worthless without the cookie and on any other host.
public enum CSRF {
    public static func anonymousField(cookie: String, host: String, key: SecretKey) -> String {
        SecretToken.mac("csrf|" + host + "|" + cookie, key: key)
    }
}

/// Cookie names and flags: over HTTPS the `__Host-` prefix and `Secure`; always host-only, `HttpOnly`, `SameSite=Lax`.
/// The names say nothing about the product (a partner's users see only their brand).
public struct CookieNames: Sendable {
    public let secure: Bool
    public var session: String { secure ? "__Host-sid" : "sid" }
    public var csrf: String { secure ? "__Host-csrf" : "csrf" }

    public init(secure: Bool) {
        self.secure = secure
    }

    public func cookie(_ name: String, value: String) -> Cookie {
        Cookie(name: name, value: value, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// A cookie that tells the browser to forget `name`.
    public func expired(_ name: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}

extension Site {
    /// The tenant and partner whose memberships can apply here (`nil`s on the platform).
    var membershipScope: (tenant: UUID?, partner: UUID?) {
        switch self {
        case .platform: (nil, nil)
        case .partner(let partner): (nil, partner.id)
        case .tenant(let tenant): (tenant.id, tenant.partnerID)
        }
    }
}

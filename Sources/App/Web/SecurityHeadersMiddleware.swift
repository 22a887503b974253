import Foundation
import HTTPTypes
import Hummingbird

/// Sets the security headers on every response and gives the request its CSP nonce.
public struct SecurityHeadersMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let trustProxy: Bool

    public init(trustProxy: Bool) {
        self.trustProxy = trustProxy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.nonce = Self.makeNonce()
        var response = try await next(request, context)
        let isHTML = response.headers[.contentType]?.hasPrefix("text/html") ?? false
        // A page that sets its own policy (an e-mail preview, sandboxed) keeps it.
        // Internal: the page's extra form-action origins (never sent to the browser as such).
        let formOrigins = response.headers[.formActionOrigins].map { " " + $0 } ?? ""
        response.headers[.formActionOrigins] = nil
        if isHTML, response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] =
                "default-src 'self'; img-src 'self' https: data:; style-src 'self' 'nonce-\(context.nonce)'; "
                + "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'\(formOrigins); frame-ancestors 'none'"
            response.headers[.xFrameOptions] = "DENY"
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "strict-origin-when-cross-origin"
        response.headers[.permissionsPolicy] = "camera=(), microphone=(), geolocation=()"
        response.headers[.crossOriginOpenerPolicy] = "same-origin"
        if trustProxy, request.headers[.xForwardedProto] == "https" {
            response.headers[.strictTransportSecurity] = "max-age=31536000"
        }
        return response
    }

    /// 128 random bits, base64: two draws from the system generator (each draw is a system call).
    static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let words: [UInt64] = [generator.next(), generator.next()]
        return words.withUnsafeBytes { Data($0) }.base64EncodedString()
    }
}

extension HTTPField.Name {
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let permissionsPolicy = HTTPField.Name("Permissions-Policy")!
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    /// Set by a page, consumed by `SecurityHeadersMiddleware`.
    static let formActionOrigins = HTTPField.Name("X-Form-Action-Origins")!
}

import Foundation
import Hummingbird
import NIOCore

/// Per-request facts every route can rely on: the resolved site and the CSP nonce.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// What the request's host resolved to; `nil` only on host-independent routes (`/healthz`, `/readyz`).
    public var site: Site?
    /// Nonce for the page's one inline `<style>` (the brand colours), echoed in the CSP header.
    public var nonce: String = ""
    /// The TCP peer (a proxy when one is in front).
    public var peerAddress: SocketAddress?
    /// The request's host, normalised (sessions belong to one host).
    public var host: String = ""
    /// The request's path (where the sign-in page sends the user back to).
    public var path: String = ""
    /// The browser's `Accept-Language`, for pages in the user's language.
    public var acceptLanguage: String?
    /// The host and port as the browser wrote them (from `X-Forwarded-Host` behind a trusted proxy).
    public var authority: String = ""
    /// The client's address: the peer, or the first `X-Forwarded-For` entry behind a trusted proxy.
    public var clientAddress: String?
    /// Whether the browser reached us over HTTPS (directly, or as a trusted proxy says).
    public var isSecure = false
    /// The signed-in user, on `/admin` routes (set by `SessionMiddleware`).
    public var identity: SignedInUser?
    /// The session cookie's token as the browser sent it (ended and replaced at sign-in).
    public var sessionToken: String?
    /// The submitted form of a POST on `/admin` routes, its CSRF field already checked.
    public var form = FormData()
    /// The anonymous CSRF token for forms shown before sign-in (from its cookie, or new).
    public var anonymousCSRF: String?
    /// The API key that authenticated a request under `/api/v1` (set by `APIKeyMiddleware`).
    public var apiKey: AuthenticatedKey?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress
    }
}

/// A request on a tenant's host: the tenant is known, so handlers need not check.
public struct TenantRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: TenantRecord
    public let nonce: String

    public init(context: AppRequestContext) throws {
        guard case .tenant(let tenant) = context.site else { throw HTTPError(.notFound) }
        self.coreContext = context.coreContext
        self.tenant = tenant
        self.nonce = context.nonce
    }
}

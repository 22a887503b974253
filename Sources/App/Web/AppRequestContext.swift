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

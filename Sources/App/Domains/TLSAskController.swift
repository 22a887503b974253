import Foundation
import Hummingbird

/// `GET /internal/tls/allowed?domain=…`: the question Caddy's on-demand TLS asks before it requests a certificate.
/// 200 only for a host Vitrina serves (a verified custom domain, a tenant's `<slug>.<base>`, a partner's domain, the
/// platform's own); 404 for anything else, so nobody can make the proxy request certificates for arbitrary names.
/// Answered from the in-memory directory: no database round trip. See docs/CADDY.md.
public struct TLSAskController: Sendable {
    let directory: TenantDirectory

    public init(directory: TenantDirectory) {
        self.directory = directory
    }

    /// Answered on any host (the proxy calls it on loopback).
    public func addRoutes(to router: Router<AppRequestContext>) {
        router.get(SiteURL.tlsAllowed.pattern, use: allowed)
    }

    @Sendable func allowed(request: Request, context: AppRequestContext) async throws -> Response {
        guard let raw = request.uri.queryParameters.get("domain"), let host = HostName.normalize(raw) else {
            return Response(status: .badRequest)
        }
        return Response(status: directory.snapshot.hosts[host] != nil ? .ok : .notFound)
    }
}

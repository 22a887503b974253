import Foundation
import Hummingbird

/// `GET /.well-known/domain-challenge/<token>` (and `/.well-known/vitrina-challenge/<token>`): answers a custom
/// domain's HTTP challenge with its token, on any host, before the domain is verified (unverified domains do not
/// route otherwise). The host must be the domain the token was issued for.
public struct DomainChallengeController: Sendable {
    let domains: DomainStore
    let trustProxy: Bool

    public init(domains: DomainStore, trustProxy: Bool) {
        self.domains = domains
        self.trustProxy = trustProxy
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        for label in [DomainChallenge.neutralLabel, DomainChallenge.brandedLabel] {
            router.get(SiteURL.domainChallenge(label: String(label.dropFirst())).pattern, use: answer)
        }
    }

    @Sendable func answer(request: Request, context: AppRequestContext) async throws -> Response {
        guard let host = HostName.normalize(SiteMiddleware.rawHost(request, trustProxy: trustProxy)),
            let token = context.parameters.get("token"), SecretToken.looksValid(token),
            let answer = try await domains.challengeAnswer(host: host, token: token)
        else {
            return Response(
                status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: .init(string: "Not found\n")))
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: .init(string: answer)))
    }
}

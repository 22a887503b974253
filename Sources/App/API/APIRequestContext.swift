import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// A request under `/api/v1` that presented a live key (set by `APIKeyMiddleware`).
public struct APIRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let key: AuthenticatedKey
    let clientAddress: String?
    let origin: Origin

    public init(context: AppRequestContext) throws {
        guard let key = context.apiKey else {
            throw APIError.unauthorized("Send an API key as `Authorization: Bearer <key>`.", invalidToken: false)
        }
        coreContext = context.coreContext
        self.key = key
        clientAddress = context.clientAddress
        origin = Origin(isSecure: context.isSecure, authority: context.authority)
    }

    /// Refuses a key without `scope` (403). Checked before anything is looked up, so a refusal says nothing about
    /// what exists.
    func require(_ scope: APIScope) throws {
        guard key.scopes.contains(scope) else {
            throw APIError(.forbidden, "This key does not have the scope \(scope.rawValue).")
        }
    }

    /// The partner of a partner key (after `require` with a partner scope, always there).
    func partnerID() throws -> UUID {
        guard let id = key.owner.partnerID else { throw APIError(.forbidden, "Only a partner's key may do this.") }
        return id
    }

    /// The tenant of a tenant key.
    func tenantID() throws -> UUID {
        guard let id = key.owner.tenantID else { throw APIError(.forbidden, "Only a shop's key may do this.") }
        return id
    }

    /// The shop behind `:slug` if it is this key's partner's; any other shop is "not found", word for word.
    func partnerTenant(in snapshot: DirectorySnapshot) throws -> TenantRecord {
        let slug = parameters.get("slug") ?? ""
        guard let tenant = snapshot.tenantsBySlug[slug], tenant.partnerID == (try partnerID()) else {
            throw APIError.noSuchTenant(slug)
        }
        return tenant
    }

    /// The key's partner's shop in the path, to be changed: a deleted shop refuses every change but `resume` with a 409,
    /// as it refuses `suspend` (its data stays until it is purged, and nothing should quietly change it meanwhile).
    func changeableTenant(in snapshot: DirectorySnapshot) throws -> TenantRecord {
        let tenant = try partnerTenant(in: snapshot)
        if tenant.status == .deleted { throw APIError.deletedShop(tenant.slug) }
        return tenant
    }

    /// An audit entry naming the key as the actor.
    func audit(_ action: String, target: String, tenantID: UUID? = nil, details: [String: String] = [:]) -> AuditEntry {
        AuditEntry(
            actorID: nil, actorEmail: key.actor, partnerID: key.owner.partnerID ?? key.tenantPartnerID,
            tenantID: tenantID ?? key.owner.tenantID, action: action, target: target, details: details, address: clientAddress)
    }

    /// The scheme, host and port for links in e-mails (the port as the client addressed this server).
    func origin(host: String) -> String { origin.url(host: host) }
}

/// Authenticates the bearer key (one round trip), applies the key's rate limit, and marks every answer with the
/// limit's headers and `Cache-Control: no-store`.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let keys: APIKeyStore
    let limiter: APIRateLimiter
    /// Failed authentications per client address: guessing keys costs a database round trip each, so an address
    /// that keeps failing waits (checked before the look-up).
    let failures: APIRateLimiter

    init(keys: APIKeyStore, limiter: APIRateLimiter, failuresPerMinute: Int = 30) {
        self.keys = keys
        self.limiter = limiter
        self.failures = APIRateLimiter(perMinute: failuresPerMinute)
    }

    /// The bucket of a client address (a UUID made from its hash, as the limiter keys by UUID).
    static func bucket(for address: String) -> UUID {
        let digest = Array(SHA256.hash(data: Data(address.utf8)))
        return UUID(
            uuid: (
                digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7], digest[8], digest[9], digest[10],
                digest[11], digest[12], digest[13], digest[14], digest[15]
            ))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized("Send an API key as `Authorization: Bearer <key>`.", invalidToken: false)
        }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        let address = Self.bucket(for: context.clientAddress ?? context.peerAddress?.ipAddress ?? "")
        guard failures.hasRoom(address) else {
            throw APIError(
                .rateLimited, "Too many requests with unknown keys from this address. Retry in a minute.", headers: [.retryAfter: "60"])
        }
        guard let key = try await keys.authenticate(token: token) else {
            _ = failures.take(address)
            throw APIError.unauthorized("The API key is unknown or revoked.", invalidToken: true)
        }
        let decision = limiter.take(key.id)
        var limitHeaders: HTTPFields = [.rateLimitLimit: "\(decision.limit)", .rateLimitRemaining: "\(decision.remaining)"]
        guard decision.allowed else {
            limitHeaders[.retryAfter] = "\(decision.retryAfter)"
            throw APIError(
                .rateLimited, "This key may make \(decision.limit) requests a minute. Retry after \(decision.retryAfter) s.",
                headers: limitHeaders)
        }
        var context = context
        context.apiKey = key
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = APIError.from(error, context: context).response()
        }
        for field in limitHeaders { response.headers[field.name] = field.value }
        return response
    }
}

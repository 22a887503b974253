import Foundation
import Hummingbird
import NIOCore

/// `GET /api/v1/openapi.json`: the hand-written description of the API (`Templates/api/openapi.json`), read and
/// checked once at start-up. A test holds it and the router's routes to each other, both ways.
struct OpenAPIController: Sendable {
    let document: ByteBuffer

    /// Reads the document; a missing or unparseable file stops the start-up.
    init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigurationError.message("The API description \(file) is missing.")
        }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw ConfigurationError.message("The API description \(file) is not a JSON object.")
        }
        document = ByteBuffer(bytes: data)
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("openapi.json", use: show)
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: document))
    }
}

/// The API's routes: the description without a key, everything else behind `APIKeyMiddleware`.
func addAPIRoutes(
    to router: Router<AppRequestContext>, services: AppServices, invitations: Invitations, texts: [String: String]
) throws {
    let api = router.group("api/v1")
    try OpenAPIController(file: services.configuration.resourcePath("Templates") + "/api/openapi.json").addRoutes(to: api)
    let keys = APIKeyStore(client: services.database.client, logger: services.logger)
    let keyed = api.group()
        .add(middleware: APIKeyMiddleware(keys: keys, limiter: APIRateLimiter(perMinute: services.configuration.apiRateLimit)))
        .group(context: APIRequestContext.self)
    let partners = PartnerAPIController(
        identity: services.identity, directory: services.directory, provisioner: services.provisioner, invitations: invitations,
        texts: texts)
    partners.addRoutes(to: keyed)
    DomainsAPIController(
        identity: services.identity, domains: services.domains, directory: services.directory,
        cnameTarget: services.configuration.domainTarget, partners: partners, texts: texts
    ).addRoutes(to: keyed)
    ArticlesAPIController(tenants: services.tenants, logger: services.logger, texts: texts).addRoutes(to: keyed)
}

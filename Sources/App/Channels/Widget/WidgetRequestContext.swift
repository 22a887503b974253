import Foundation
import HTTPTypes
import Hummingbird

/// A request to a shop's widget (its script, its frame, its API): the shop is known, and so are the origin the browser
/// reached it at and the visitor's language.
public struct WidgetRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: TenantRecord
    public let nonce: String
    /// `https://tea.example` as the browser reached the shop (the widget frame's own origin).
    public let ownOrigin: String
    public let clientAddress: String
    /// `ru` or `en`: the browser's choice among the supported, else the shop's.
    public let language: String

    public init(context: AppRequestContext) throws {
        guard case .tenant(let tenant) = context.site else { throw HTTPError(.notFound) }
        coreContext = context.coreContext
        self.tenant = tenant
        nonce = context.nonce
        ownOrigin = (context.isSecure ? "https://" : "http://") + context.authority
        clientAddress = context.clientAddress ?? "unknown"
        language =
            Localizer.language(fromAcceptLanguage: context.acceptLanguage) ?? tenant.resolvedBranding.defaultLanguage ?? Localizer.fallback
    }
}

/// Everything under `/widget/api`: problem documents for every error (the widget shows their `detail`), and the
/// `Origin` check. The frame calls its own origin; a storefront's page may call the API directly only from an origin
/// one of the shop's bots allows, and only those get CORS headers. Anything else is refused before a handler runs.
struct WidgetAPIMiddleware: RouterMiddleware {
    typealias Context = WidgetRequestContext
    let tenants: TenantDatabase
    let localizer: Localizer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var cors: HTTPFields = [:]
            if let origin = request.headers[.origin], origin != context.ownOrigin {
                guard try await allowed(origin, context.tenant) else {
                    throw APIError(.forbidden, localizer.text("widget_error_origin", context.language))
                }
                cors[.accessControlAllowOrigin] = origin
                cors[.vary] = "Origin"
                if request.method == .options {
                    cors[.accessControlAllowMethods] = "GET, POST"
                    cors[.accessControlAllowHeaders] = "Authorization, Content-Type, Last-Event-ID"
                    cors[.accessControlMaxAge] = "600"
                    return Response(status: .noContent, headers: cors)
                }
            }
            var response = try await next(request, context)
            for field in cors { response.headers[field.name] = field.value }
            return response
        } catch {
            return APIError.from(error, context: context).response()
        }
    }

    /// Whether one of the shop's bots lists `origin` (read only for foreign origins: the frame's own calls never are).
    func allowed(_ origin: String, _ tenant: TenantRecord) async throws -> Bool {
        guard let normal = WidgetSettings.origin(origin), normal == origin.lowercased() else { return false }
        return try await tenants.withTenant(tenant, readOnly: true) { connection in
            try await connection.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM bots WHERE \(normal) = ANY(allowed_origins))") ?? false
        }
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}

import Foundation
import HTTPTypes
import Hummingbird

/// Under `/widget/api/` on a shop's host, what the router itself refuses is a problem document, never the shop's error
/// page: a path the API has, asked with another method, is a 405 with `Allow`; a path it does not have, a 404. (The
/// widget's handlers answer their own errors as problems in `WidgetAPIMiddleware`; this sees only the router's 404.)
struct WidgetRoutesMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// The routes under `/widget/api/`, filled in once the router is built.
    let routes: APIRouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix(WidgetURL.api + "/"), case .tenant = context.site else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return routes.unrouted(request, described: WidgetURL.openapi.path).response()
        }
    }
}

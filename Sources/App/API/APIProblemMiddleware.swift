import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Under `/api/`: every error becomes a problem document, never a page, including 404 for unknown routes and 405
/// (with `Allow`) for a known path asked with another method.
struct APIProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let routes: APIRouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") || request.uri.path == "/api" else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch {
            var problem = APIError.from(error, context: context)
            if problem.kind == .notFound, !(error is APIError) { problem = routes.unrouted(request, described: "/api/v1/openapi.json") }
            return problem.response()
        }
    }
}

/// The API's routes as registered (filled in once the router is built), for answering 405 instead of 404.
final class APIRouteTable: Sendable {
    private let routes = Mutex<[(method: HTTPRequest.Method, path: [RouterPath.Element])]>([])

    func set(_ list: [Router<AppRequestContext>.RouteDescription]) {
        let table = list.map { (method: $0.method, path: $0.path.components) }
        routes.withLock { $0 = table }
    }

    /// What the router could not route: a path some route has, asked with another method, is a 405 with `Allow`; any
    /// other, a 404 that points at the document `described` (the OpenAPI description of these routes).
    func unrouted(_ request: Request, described document: String) -> APIError {
        let allowed = methods(for: request.uri.path)
        guard !allowed.isEmpty else { return APIError.notFound("There is no such route. The routes are described at \(document).") }
        return APIError(
            .methodNotAllowed, "\(request.method.rawValue) is not allowed here.",
            headers: [.allow: allowed.map(\.rawValue).sorted().joined(separator: ", ")])
    }

    /// The methods some route answers on a concrete path.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        return routes.withLock { routes in
            routes.filter { route in
                route.path.count == parts.count && zip(route.path, parts).allSatisfy { element, part in element ~= part }
            }.map(\.method)
        }
    }
}

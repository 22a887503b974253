import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Resolves the request's host to a site (from memory), refuses unknown and suspended ones, and turns every error
/// below it into a page in that site's branding.
public struct SiteMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    let directory: TenantDirectory
    let renderer: Renderer
    let trustProxy: Bool

    /// Routes that answer on any host (load balancers probe them by IP).
    static let hostIndependentPaths: Set<String> = ["/healthz", "/readyz"]

    public init(directory: TenantDirectory, renderer: Renderer, trustProxy: Bool) {
        self.directory = directory
        self.renderer = renderer
        self.trustProxy = trustProxy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Health probes and static files answer on any host: a suspended shop's 503 page still needs its stylesheet.
        if Self.hostIndependentPaths.contains(request.uri.path) || request.uri.path.hasPrefix("/static/") {
            return try await next(request, context)
        }
        guard let site = resolve(request) else {
            return try errorPage(.notFound, site: .platform, request: request, context: context, linkHome: false)
        }
        if case .tenant(let tenant) = site, tenant.status == .suspended {
            var response = try errorPage(.serviceUnavailable, site: site, request: request, context: context)
            response.headers[.retryAfter] = "3600"
            return response
        }
        var context = context
        context.site = site
        do {
            return try await next(request, context)
        } catch let error as HTTPResponseError where error.status.code < 500 {
            return try errorPage(error.status, site: site, request: request, context: context)
        } catch {
            context.logger.error("Request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return try errorPage(.internalServerError, site: site, request: request, context: context)
        }
    }

    /// The host to route by: `X-Forwarded-Host` when a trusted proxy is in front, else the request's own.
    func resolve(_ request: Request) -> Site? {
        if trustProxy, let forwarded = request.headers[.xForwardedHost] {
            let first =
                forwarded.split(separator: ",", maxSplits: 1).first.map { String($0).trimmingCharacters(in: CharacterSet.whitespaces) }
                ?? ""
            return directory.resolve(host: first)
        }
        guard let host = request.head.authority else { return nil }
        return directory.resolve(host: host)
    }

    /// The language for a site's pages: the tenant's or partner's own, else the browser's, else Russian.
    static func language(for site: Site, request: Request) -> String {
        switch site {
        case .platform:
            Localizer.language(fromAcceptLanguage: request.headers[.acceptLanguage]) ?? Localizer.fallback
        case .partner, .tenant:
            site.branding.defaultLanguage ?? Localizer.fallback
        }
    }

    func errorPage(_ status: HTTPResponse.Status, site: Site, request: Request, context: Context, linkHome: Bool = true) throws -> Response
    {
        let language = Self.language(for: site, request: request)
        let t = renderer.localizer.catalog(language)
        let key = [404, 403, 429, 503].contains(status.code) ? "\(status.code)" : (status.code >= 500 ? "500" : "400")
        let title = t["error_\(key)_title"] ?? status.reasonPhrase
        let page = ErrorPage(
            status: status.code, heading: title, message: t["error_\(key)_message"] ?? "",
            requestID: status.code >= 500 && status != .serviceUnavailable ? context.id : nil, showHome: linkHome && status.code != 503)
        let frame = renderer.frame(branding: site.branding, language: language, nonce: context.nonce, title: title)
        var html = renderer.render("pages/errors/error", page: page, frame: frame, status: status)
        if request.method == .head { html.html = "" }
        return try html.response(from: request, context: context)
    }
}

/// The error page's content.
struct ErrorPage {
    let status: Int
    let heading: String
    let message: String
    let requestID: String?
    let showHome: Bool
}

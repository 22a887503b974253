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

    public init(directory: TenantDirectory, renderer: Renderer, trustProxy: Bool) {
        self.directory = directory
        self.renderer = renderer
        self.trustProxy = trustProxy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // Health probes and static files answer on any host: a suspended shop's 503 page still needs its stylesheet.
        if SiteURL.hostIndependentPaths.contains(path) || path.hasPrefix(SiteURL.staticPrefix) || path.hasPrefix(SiteURL.brandAssetPrefix)
            || path.hasPrefix(SiteURL.wellKnownPrefix) || path == SiteURL.metrics.path
        {
            return try await next(request, context)
        }
        var context = context
        context.isSecure = trustProxy && request.headers[.xForwardedProto] == "https"
        // The API answers on every host: its key, not the host, says whose data a request reaches. Its errors are
        // problem documents (`APIProblemMiddleware`), never pages.
        let snapshot = directory.snapshot
        if path.hasPrefix("/api/") {
            context.authority = resolve(request, in: snapshot)?.authority ?? ""
            context.clientAddress = clientAddress(request, context: context)
            return try await next(request, context)
        }
        guard let (authority, host, site) = resolve(request, in: snapshot) else {
            // A host nobody routes: the 404 is its owner's when the directory knows one (a domain not verified yet, a
            // deleted shop), else the platform's.
            let raw = Self.rawHost(request, trustProxy: trustProxy)
            if let owner = HostName.normalize(raw).flatMap({ snapshot.unrouted[$0] }) {
                return try errorPage(
                    .notFound, branding: owner, language: owner.defaultLanguage ?? Localizer.fallback, request: request, context: context,
                    linkHome: false)
            }
            return try errorPage(.notFound, site: .platform(snapshot.platform), request: request, context: context, linkHome: false)
        }
        if case .tenant(let tenant) = site, tenant.status == .suspended {
            var response = try errorPage(.serviceUnavailable, site: site, request: request, context: context)
            response.headers[.retryAfter] = "3600"
            return response
        }
        // The panel on the built-in `<slug>.<base>` address never redirects: if the primary domain stops working,
        // the shop can still sign in there and fix it.
        if let primary = snapshot.redirects[host], !(path.hasPrefix(PanelURL.prefix) && host.hasSuffix("." + snapshot.baseDomain)) {
            return Self.redirect(request, to: primary, authority: authority, secure: context.isSecure)
        }
        context.site = site
        context.host = host
        context.authority = authority
        context.path = path
        context.acceptLanguage = request.headers[.acceptLanguage]
        context.clientAddress = clientAddress(request, context: context)
        if case .tenant(let tenant) = site { context.logger[metadataKey: "tenant_id"] = .string(tenant.id.uuidString.lowercased()) }
        do {
            return try await next(request, context)
        } catch let redirect as RedirectError {
            return try redirect.response(from: request, context: context)
        } catch let refusal as RefusalError {
            var response = try errorPage(refusal.status, site: site, request: request, context: context, refusal: refusal)
            if let seconds = refusal.retryAfter { response.headers[.retryAfter] = "\(seconds)" }
            return response
        } catch let error as HTTPResponseError where error.status.code < 500 {
            return try errorPage(error.status, site: site, request: request, context: context)
        } catch let unavailable as TenantUnavailable {
            // The shop was suspended between the directory's look and the door's.
            context.logger.notice("The tenant door refused a request", metadata: ["reason": "\(unavailable)"])
            return try errorPage(.serviceUnavailable, site: site, request: request, context: context)
        } catch {
            context.logger.error("Request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(path)"])
            return try errorPage(.internalServerError, site: site, request: request, context: context)
        }
    }

    /// A permanent redirect to the site's primary domain: same path and query, same scheme, and the port the browser
    /// used (on a development machine the port is part of every address). 308 keeps the method and body.
    static func redirect(_ request: Request, to primary: String, authority: String, secure: Bool) -> Response {
        let target = Origin(isSecure: secure, authority: authority).url(host: primary) + request.uri.description
        return Response(status: .permanentRedirect, headers: [.location: target, .cacheControl: "no-store"])
    }

    /// The host as the browser wrote it: `X-Forwarded-Host` when a trusted proxy is in front (its first entry), else
    /// the request's own.
    static func rawHost(_ request: Request, trustProxy: Bool) -> String {
        if trustProxy, let forwarded = request.headers[.xForwardedHost] {
            return forwarded.split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        return request.head.authority ?? ""
    }

    /// The request's host (as written, and normalised) and the site it resolves to.
    func resolve(_ request: Request, in snapshot: DirectorySnapshot) -> (authority: String, host: String, site: Site)? {
        let raw = Self.rawHost(request, trustProxy: trustProxy)
        guard let (host, site) = snapshot.resolve(host: raw) else { return nil }
        return (raw, host, site)
    }

    /// The client's address: the TCP peer, or, behind a trusted proxy, the last `X-Forwarded-For` entry (the one the
    /// proxy added: earlier entries are whatever the client sent).
    func clientAddress(_ request: Request, context: Context) -> String? {
        if trustProxy, let forwarded = request.headers[.xForwardedFor],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return String(last.prefix(64))
        }
        return context.peerAddress?.ipAddress
    }

    /// The language for a site's pages: the tenant's or partner's own, else the browser's, else Russian.
    static func language(for site: Site, acceptLanguage: String?) -> String {
        switch site {
        case .platform: Localizer.language(fromAcceptLanguage: acceptLanguage) ?? site.branding.defaultLanguage ?? Localizer.fallback
        case .partner, .tenant: site.branding.defaultLanguage ?? Localizer.fallback
        }
    }

    func errorPage(
        _ status: HTTPResponse.Status, site: Site, request: Request, context: Context, linkHome: Bool = true, refusal: RefusalError? = nil
    ) throws -> Response {
        let language = context.identity?.user.language ?? Self.language(for: site, acceptLanguage: request.headers[.acceptLanguage])
        return try errorPage(
            status, branding: site.branding, language: language, request: request, context: context, linkHome: linkHome, refusal: refusal)
    }

    /// The error page in a brand and a language.
    func errorPage(
        _ status: HTTPResponse.Status, branding: Branding, language: String, request: Request, context: Context, linkHome: Bool = true,
        refusal: RefusalError? = nil
    ) throws -> Response {
        let t = renderer.localizer.catalog(language)
        let key = [404, 403, 429, 503].contains(status.code) ? "\(status.code)" : (status.code >= 500 ? "500" : "400")
        let title = t["error_\(key)_title"] ?? status.reasonPhrase
        var message = t[refusal?.messageKey ?? "error_\(key)_message"] ?? ""
        if let detail = refusal?.detail { message += " " + detail }
        let page = ErrorPage(
            status: status.code, heading: title, message: message,
            requestID: status.code >= 500 && status != .serviceUnavailable ? context.id : nil, showHome: linkHome && status.code != 503,
            homeURL: SiteURL.home.path)
        let frame = renderer.frame(branding: branding, language: language, nonce: context.nonce, title: title)
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
    let homeURL: String
}

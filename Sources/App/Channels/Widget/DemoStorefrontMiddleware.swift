import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `make run`'s demo storefronts: `store.<slug>.<base domain>` answers a plain product page of the shop's that embeds
/// the shop's chat widget from the shop's own host, exactly as a storefront on another origin would (the demo shops'
/// bots list these origins as allowed). Only with `--demo-storefronts`; any other host goes on.
struct DemoStorefrontMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let directory: TenantDirectory
    let renderer: Renderer
    let trustProxy: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let raw = SiteMiddleware.rawHost(request, trustProxy: trustProxy)
        let snapshot = directory.snapshot
        guard let host = HostName.normalize(raw), host.hasPrefix("store."), host.hasSuffix("." + snapshot.baseDomain) else {
            return try await next(request, context)
        }
        let slug = String(host.dropFirst(6).dropLast(snapshot.baseDomain.count + 1))
        guard let tenant = snapshot.tenantsBySlug[slug], tenant.status == .active, request.uri.path == "/" else {
            return try await next(request, context)
        }
        let port = raw.split(separator: ":").dropFirst().first.map { ":" + $0 } ?? ""
        let shopOrigin = "http://\(tenant.slug).\(snapshot.baseDomain)\(port)"
        let language = tenant.resolvedBranding.defaultLanguage ?? "ru"
        let brand = renderer.frame(branding: tenant.resolvedBranding, language: language, nonce: context.nonce, title: "").brand
        let t = renderer.localizer.catalog(language)
        let html = renderer.renderTemplate(
            "pages/demo/storefront",
            [
                "lang": language, "name": brand.name, "nonce": context.nonce, "widget": shopOrigin + WidgetURL.script.path,
                "css": ":root{--brand:\(brand.primary);--on-brand:\(brand.onPrimary);--font:\(brand.font)}",
                "t": t, "help": shopOrigin + SiteURL.help.path,
            ] as [String: Any])
        let policy =
            "default-src 'self'; script-src \(shopOrigin); style-src 'nonce-\(context.nonce)'; img-src 'self' \(shopOrigin) data:; "
            + "connect-src \(shopOrigin); frame-src \(shopOrigin); base-uri 'none'; form-action 'none'"
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: policy, .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

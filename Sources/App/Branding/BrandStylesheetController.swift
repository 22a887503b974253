import Foundation
import Hummingbird
import NIOCore

/// `/brand.css`: the host's custom CSS (checked when it was saved), served as its own stylesheet so it never shares a
/// `<style>` element with the page. With the current version in `?v=` it is cached for a year.
public struct BrandStylesheetController: Sendable {
    public init() {}

    public func addRoutes(to router: Router<AppRequestContext>) {
        router.get(SiteURL.brandStylesheet.pattern, use: stylesheet)
    }

    @Sendable func stylesheet(request: Request, context: AppRequestContext) async throws -> Response {
        guard let site = context.site, let css = site.branding.customCSS, CustomCSS.problem(css) == nil else {
            throw HTTPError(.notFound)
        }
        let current = request.uri.queryParameters.get("v") == CustomCSS.version(css)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/css; charset=utf-8",
                .cacheControl: current ? "public, max-age=31536000, immutable" : "no-cache",
            ],
            body: .init(byteBuffer: ByteBuffer(string: css)))
    }
}

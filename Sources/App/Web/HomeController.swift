import Foundation
import Hummingbird

/// `/` on every kind of host: the platform's and partners' landing pages; tenants go to their help centre.
public struct HomeController: Sendable {
    let renderer: Renderer
    let directory: TenantDirectory

    public init(renderer: Renderer, directory: TenantDirectory) {
        self.renderer = renderer
        self.directory = directory
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        router.get(SiteURL.home.pattern, use: home)
    }

    @Sendable func home(request: Request, context: AppRequestContext) async throws -> Response {
        guard let site = context.site else { throw HTTPError(.notFound) }
        let language = SiteMiddleware.language(for: site, acceptLanguage: request.headers[.acceptLanguage])
        let t = renderer.localizer.catalog(language)
        switch site {
        case .tenant:
            return Response(status: .found, headers: [.location: SiteURL.help.path])
        case .platform:
            let page = PlatformHomePage(baseDomain: directory.snapshot.baseDomain)
            let frame = renderer.frame(branding: site.branding, language: language, nonce: context.nonce, title: t["platform_title"] ?? "")
            return try renderer.render("pages/home/platform", page: page, frame: frame).response(from: request, context: context)
        case .partner(let partner):
            let page = PartnerHomePage(name: partner.resolvedBranding.name ?? partner.name)
            let frame = renderer.frame(branding: site.branding, language: language, nonce: context.nonce, title: page.name)
            return try renderer.render("pages/home/partner", page: page, frame: frame).response(from: request, context: context)
        }
    }
}

struct PlatformHomePage {
    let baseDomain: String
}

struct PartnerHomePage {
    let name: String
}

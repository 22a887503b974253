import Foundation
import Hummingbird

/// The tenant's public help centre: `/help`, `/help?q=…` and `/help/<slug>`.
public struct HelpController: Sendable {
    let articles: HelpArticleStore
    let renderer: Renderer

    public init(articles: HelpArticleStore, renderer: Renderer) {
        self.articles = articles
        self.renderer = renderer
    }

    public func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get(SiteURL.help.pattern, use: index)
        group.get(SiteURL.helpArticle().pattern, use: article)
    }

    /// Lists the articles, or the search results when `q` is given.
    @Sendable func index(request: Request, context: TenantRequestContext) async throws -> HTMLPage {
        let query = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if !query.isEmpty { return try await search(String(query.prefix(200)), context: context) }
        let (branding, list) = try await articles.indexPage(context.tenant, logger: context.logger)
        // The branding read with the articles; a help centre without articles has only the directory's copy.
        let frame = frame(
            branding.map { Branding.forTenant($0, partner: context.tenant.partnerBranding, shopName: context.tenant.name) },
            titleKey: "help_title",
            context: context)
        let page = HelpIndexPage(articles: list, more: frame.t["help_read_more"] ?? "", query: "", searched: false, hits: [])
        return renderer.render("pages/help/index", page: page, frame: frame)
    }

    func search(_ query: String, context: TenantRequestContext) async throws -> HTMLPage {
        let hits = try await articles.search(query, context.tenant, logger: context.logger)
        let page = HelpIndexPage(articles: [], query: query, searched: true, hits: hits.map(SearchHitView.init))
        return renderer.render("pages/help/index", page: page, frame: frame(titleKey: "help_search_title", context: context))
    }

    /// Shows one article with the list of the others beside it.
    @Sendable func article(request: Request, context: TenantRequestContext) async throws -> HTMLPage {
        let slug = context.parameters.get("slug") ?? ""
        guard Slug.isValidArticleSlug(slug) else { throw HTTPError(.notFound) }
        let (found, others) = try await articles.article(slug, context.tenant, logger: context.logger)
        guard let article = found else { throw HTTPError(.notFound) }
        var frame = frame(titleKey: "", context: context)
        frame.title = article.title
        let page = HelpArticlePage(
            slug: article.slug, title: article.title, paragraphs: article.paragraphs,
            updated: DateText.long(article.updatedAt ?? Date(), language: frame.lang),
            others: others.map { OtherArticle(href: SiteURL.helpArticle($0.slug).path, title: $0.title, current: $0.slug == article.slug) })
        return renderer.render("pages/help/article", page: page, frame: frame)
    }

    /// The page frame in the tenant's branding (the directory's copy unless a fresher one is given) and language.
    private func frame(_ branding: Branding? = nil, titleKey: String, context: TenantRequestContext) -> PageFrame {
        let branding = branding ?? context.tenant.resolvedBranding
        let language = branding.defaultLanguage ?? Localizer.fallback
        return renderer.frame(
            branding: branding, language: language, nonce: context.nonce, title: renderer.localizer.text(titleKey, language))
    }
}

extension Renderer {
    /// The help index page as `HelpController.index` renders it, for the render benchmark.
    public func renderHelpIndexForBenchmark(articles: [HelpArticleSummary], branding: Branding) -> String {
        let page = HelpIndexPage(
            articles: articles, more: localizer.text("help_read_more", "en"), query: "", searched: false, hits: [])
        return render("pages/help/index", page: page, frame: frame(branding: branding, language: "en", nonce: "n", title: "Help")).html
    }
}

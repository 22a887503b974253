import Foundation
import Hummingbird

/// The tenant's public help centre: `/help`, `/help?q=…` and `/help/<slug>`.
public struct HelpController: Sendable {
    let database: TenantDatabase
    let renderer: Renderer

    public init(database: TenantDatabase, renderer: Renderer) {
        self.database = database
        self.renderer = renderer
    }

    public func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("/help", use: index)
        group.get("/help/:slug", use: article)
    }

    /// Lists the articles, or the search results when `q` is given.
    @Sendable func index(request: Request, context: TenantRequestContext) async throws -> HTMLPage {
        let query = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if !query.isEmpty { return try await search(String(query.prefix(200)), context: context) }
        let (branding, articles) = try await HelpArticleStore.indexPage(context.tenant.scope, in: database)
        // The branding read with the articles; a help centre without articles has only the directory's copy.
        let frame = frame(
            branding.map { Branding.forTenant($0, partner: context.tenant.partnerBranding, shopName: context.tenant.name) },
            titleKey: "help_title",
            context: context)
        let page = HelpIndexPage(
            articles: articles, more: frame.t["help_read_more"] ?? "", query: "", searched: false, hits: [])
        return renderer.render("pages/help/index", page: page, frame: frame)
    }

    func search(_ query: String, context: TenantRequestContext) async throws -> HTMLPage {
        let hits = try await HelpArticleStore.search(query, context.tenant.scope, in: database)
        let page = HelpIndexPage(articles: [], query: query, searched: true, hits: hits.map(SearchHitView.init))
        return renderer.render("pages/help/index", page: page, frame: frame(titleKey: "help_search_title", context: context))
    }

    /// Shows one article with the list of the others beside it.
    @Sendable func article(request: Request, context: TenantRequestContext) async throws -> HTMLPage {
        let slug = context.parameters.get("slug") ?? ""
        guard Slug.isValidArticleSlug(slug) else { throw HTTPError(.notFound) }
        let (found, others) = try await HelpArticleStore.article(slug, context.tenant.scope, in: database)
        guard let article = found else { throw HTTPError(.notFound) }
        var frame = frame(titleKey: "", context: context)
        frame.title = article.title
        let page = HelpArticlePage(
            slug: article.slug, title: article.title, paragraphs: article.paragraphs,
            updated: DateText.long(article.updatedAt ?? Date(), language: frame.lang),
            others: others.map { OtherArticle(slug: $0.slug, title: $0.title, current: $0.slug == article.slug) })
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

/// One card on the index page. It carries the "read more" label itself: a look-up that has to climb Mustache's
/// context stack to `frame.t` from inside the loop cost more than the rest of the card.
struct HelpCard {
    let slug: String
    let title: String
    let excerpt: String
    let more: String
}

struct HelpIndexPage {
    let articles: [HelpCard]
    let query: String
    let searched: Bool
    let hits: [SearchHitView]
    let empty: Bool

    init(articles: [HelpArticleSummary], more: String = "", query: String, searched: Bool, hits: [SearchHitView]) {
        self.articles = articles.map { HelpCard(slug: $0.slug, title: $0.title, excerpt: $0.excerpt, more: more) }
        self.query = query
        self.searched = searched
        self.hits = hits
        self.empty = searched ? hits.isEmpty : articles.isEmpty
    }
}

/// A search hit with its fragment split into plain and highlighted runs (escaped by the template).
struct SearchHitView {
    struct Run {
        let text: String
        let mark: Bool
    }
    let slug: String
    let title: String
    let runs: [Run]

    init(_ hit: HelpSearchHit) {
        slug = hit.slug
        title = hit.title
        var runs: [Run] = []
        var mark = false
        var current = ""
        for character in hit.fragment {
            if character == "\u{1}" || character == "\u{2}" {
                if !current.isEmpty { runs.append(Run(text: current, mark: mark)) }
                current = ""
                mark = character == "\u{1}"
            } else {
                current.append(character == "\n" ? " " : character)
            }
        }
        if !current.isEmpty { runs.append(Run(text: current, mark: mark)) }
        self.runs = runs
    }
}

struct HelpArticlePage {
    let slug: String
    let title: String
    let paragraphs: [String]
    let updated: String
    let others: [OtherArticle]
}

struct OtherArticle {
    let slug: String
    let title: String
    let current: Bool
}

/// Dates written out in the page's language.
enum DateText {
    static let monthsRU = [
        "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря",
    ]
    static let monthsEN = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    static func long(_ date: Date, language: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow") ?? .gmt
        let parts = calendar.dateComponents([.day, .month, .year], from: date)
        let day = parts.day ?? 1, month = (parts.month ?? 1) - 1, year = parts.year ?? 2026
        return language == "en" ? "\(monthsEN[month]) \(day), \(year)" : "\(day) \(monthsRU[month]) \(year) г."
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

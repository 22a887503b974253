// The public help centre's page models. They answer the templates' look-ups by name directly: the default path reflects
// over every value with `Mirror` on every look-up, which cost half of a help page's render time.

/// One card on the index page. It carries its link and the "read more" label itself: a look-up that has to climb
/// the template's context stack to `frame.t` from inside the loop cost more than the rest of the card.
struct HelpCard: TemplateParent {
    let href: String
    let title: String
    let excerpt: String
    let more: String

    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "title": title
        case "excerpt": excerpt
        case "more": more
        default: nil
        }
    }
}

struct HelpIndexPage: TemplateParent {
    let articles: [HelpCard]
    let query: String
    let searched: Bool
    let hits: [SearchHitView]
    let empty: Bool

    init(articles: [HelpArticleSummary], more: String = "", query: String, searched: Bool, hits: [SearchHitView]) {
        self.articles = articles.map {
            HelpCard(href: SiteURL.helpArticle($0.slug).path, title: $0.title, excerpt: $0.excerpt, more: more)
        }
        self.query = query
        self.searched = searched
        self.hits = hits
        self.empty = searched ? hits.isEmpty : articles.isEmpty
    }

    func child(named name: String) -> Any? {
        switch name {
        case "articles": articles
        case "query": query
        case "searched": searched
        case "hits": hits
        case "empty": empty
        default: nil
        }
    }
}

/// A search hit with its fragment split into plain and highlighted runs (escaped by the template).
struct SearchHitView: TemplateParent {
    struct Run: TemplateParent {
        let text: String
        let mark: Bool

        func child(named name: String) -> Any? {
            switch name {
            case "text": text
            case "mark": mark
            default: nil
            }
        }
    }
    let href: String
    let title: String
    let runs: [Run]

    init(_ hit: HelpSearchHit) {
        href = SiteURL.helpArticle(hit.slug).path
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

    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "title": title
        case "runs": runs
        default: nil
        }
    }
}

struct HelpArticlePage: TemplateParent {
    let slug: String
    let title: String
    let paragraphs: [String]
    let updated: String
    let others: [OtherArticle]

    func child(named name: String) -> Any? {
        switch name {
        case "slug": slug
        case "title": title
        case "paragraphs": paragraphs
        case "updated": updated
        case "others": others
        default: nil
        }
    }
}

struct OtherArticle: TemplateParent {
    let href: String
    let title: String
    let current: Bool

    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "title": title
        case "current": current
        default: nil
        }
    }
}

import Foundation

/// A help-centre article: plain text whose paragraphs are separated by blank lines.
public struct HelpArticle: Sendable, Equatable, Codable {
    public var slug: String
    public var title: String
    public var body: String
    public var position: Int
    public var updatedAt: Date?

    public init(slug: String, title: String, body: String, position: Int = 0, updatedAt: Date? = nil) {
        self.slug = slug
        self.title = title
        self.body = body
        self.position = position
        self.updatedAt = updatedAt
    }

    /// The body split into paragraphs (blank-line separated), each trimmed.
    public var paragraphs: [String] { Self.paragraphs(of: body) }

    static func paragraphs(of body: String) -> [String] {
        body.replacingOccurrences(of: "\r\n", with: "\n")
            .components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }
}

extension HelpArticle {
    /// Checks an article as the editor and the API both take it: the slug to use (made from the title when empty)
    /// and the fields refused (interface-text keys). `body` is expected trimmed.
    public static func check(title: String, slug: String, body: String) -> (slug: String, errors: [String: String]) {
        var slug = slug
        if slug.isEmpty, !title.isEmpty {
            slug = String(Transliteration.slug(from: title).prefix(80)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
            if !Slug.isValidArticleSlug(slug) { slug = Slug.derived(from: title, prefix: "article") }
        }
        var errors: [String: String] = [:]
        if title.isEmpty {
            errors["title"] = "form_required"
        } else if title.databaseLength > 200 {
            errors["title"] = "form_too_long"
        }
        // An empty slug is made from the title: with no title either, the title's error says it all.
        if !Slug.isValidArticleSlug(slug), !(slug.isEmpty && title.isEmpty) { errors["slug"] = "articles_slug_invalid" }
        if body.isEmpty {
            errors["body"] = "form_required"
        } else if body.databaseLength > 100_000 {
            errors["body"] = "form_too_long"
        }
        return (slug, errors)
    }
}

/// One line of the help centre's index.
public struct HelpArticleSummary: Sendable, Equatable {
    public var slug: String
    public var title: String
    public var excerpt: String

    public init(slug: String, title: String, excerpt: String) {
        self.slug = slug
        self.title = title
        self.excerpt = excerpt
    }
}

/// A search hit with its highlighted fragment (text between `\u{1}` and `\u{2}` matched the query).
public struct HelpSearchHit: Sendable, Equatable {
    public var slug: String
    public var title: String
    public var fragment: String
}

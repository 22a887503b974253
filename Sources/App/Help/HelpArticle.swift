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

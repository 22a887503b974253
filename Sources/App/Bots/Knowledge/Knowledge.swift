import Foundation

/// Where a piece of knowledge comes from.
public enum KnowledgeSource: String, Sendable, Codable {
    case faq, article
}

/// A link under an answer: to a help article, a FAQ entry or the shop's own site.
public struct LinkButton: Sendable, Codable, Equatable {
    public var title: String
    public var url: String

    public init(title: String, url: String) {
        self.title = title
        self.url = url
    }
}

/// Something the bot can answer with: a FAQ entry or a help article.
public struct KnowledgeEntry: Sendable, Equatable {
    public var source: KnowledgeSource
    public var id: Int
    public var slug: String
    /// The FAQ entry's question, or the article's title.
    public var title: String
    /// The FAQ entry's answer; `nil` for articles, which answer with their best-matching paragraph.
    public var answer: String?
    public var buttons: [LinkButton]
}

/// Which part of an entry a passage is.
public enum PassagePart: String, Sendable, Codable {
    case question, phrasing, answer, title, paragraph

    /// Whether the passage says what the entry is about (rather than what it answers).
    var isHeading: Bool { self == .question || self == .phrasing || self == .title }
}

/// One searchable text of an entry, as `knowledge_passages` holds it: its stems (PostgreSQL's Russian and English
/// stemmers) and, once embedded, its vector.
public struct Passage: Sendable {
    /// The entry's index in the snapshot's `entries`.
    public var entry: Int
    public var part: PassagePart
    public var text: String
    public var stems: Set<String>
    public var vector: [Float]?
}

/// A FAQ entry as the editor, the API and tenants.yml see it.
public struct FAQEntry: Sendable, Codable, Equatable {
    public var id: Int?
    public var slug: String
    public var question: String
    public var phrasings: [String]
    public var answer: String
    public var buttons: [LinkButton]
    public var enabled: Bool
    public var position: Int

    public init(
        id: Int? = nil, slug: String, question: String, phrasings: [String] = [], answer: String, buttons: [LinkButton] = [],
        enabled: Bool = true, position: Int = 0
    ) {
        self.id = id
        self.slug = slug
        self.question = question
        self.phrasings = phrasings
        self.answer = answer
        self.buttons = buttons
        self.enabled = enabled
        self.position = position
    }
}

/// `word → means`: a shopper's word read as the shop's ("посылка" → "доставка").
public struct Synonym: Sendable, Codable, Equatable, Hashable {
    public var word: String
    public var means: String

    public init(word: String, means: String) {
        self.word = word
        self.means = means
    }

    /// The starter list every shop gets under its own: e-commerce words in Russian and English, colloquial words read
    /// as a shop's, and each language's words read as the other's (shops write in one, shoppers often in the other).
    /// A pair's meaning scores less than the word itself, so a pair must mean the same thing in a shop conversation.
    public static let builtIn: [Synonym] =
        russian + english + englishToRussian + russianToEnglish + productsEnglishToRussian + productsRussianToEnglish

    /// `(word, means)` pairs as synonyms (the lists in `Synonym+*.swift`).
    static func pairs(_ list: [(String, String)]) -> [Synonym] {
        list.map { Synonym(word: $0.0, means: $0.1) }
    }
}

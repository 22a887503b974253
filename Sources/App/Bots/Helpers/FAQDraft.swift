import Foundation
import PostgresNIO

/// A FAQ entry the model proposed, waiting for the shop: approved (it becomes an entry, edited in the entry form) or
/// discarded. `source` says where it came from: `article:<slug>` or `conversation:<id>`.
public struct FAQDraft: Sendable, Equatable, RowDecodable {
    public var id: Int
    public var question: String
    public var phrasings: [String]
    public var answer: String
    public var source: String
    public var createdAt: Date

    static let columns = "id::int, question, phrasings, answer, source, created_at"

    public init(row: PostgresRow) throws {
        (id, question, phrasings, answer, source, createdAt) = try row.decode((Int, String, [String], String, String, Date).self)
    }

    /// A proposed entry before it is stored.
    public struct Proposed: Sendable, Equatable {
        public var question: String
        public var phrasings: [String]
        public var answer: String
        public var source: String
    }
}

/// The job that drafts FAQ entries: from one help article (`article` is its slug) or, with `article` nil, from the
/// conversations people resolved in the last 30 days. It carries only that: the tenant is the job's own, resolved again.
public struct DraftFAQEntries: JobKind, Equatable {
    public static let kind = "bot.faq_drafts"
    public var article: String?

    public init(article: String?) {
        self.article = article
    }

    /// The source label of an article's drafts, or `conversations` for the other kind.
    var sourceName: String { article.map { "article:" + $0 } ?? "conversations" }
}

/// `faq_drafts` in a tenant's schema, and the draft jobs of a shop as `platform.jobs` holds them.
public struct FAQDraftStore: Sendable {
    public init() {}

    public func list(on tenant: TenantConnection) async throws -> [FAQDraft] {
        try await tenant.all(FAQDraft.self, "SELECT \(unescaped: FAQDraft.columns) FROM faq_drafts ORDER BY created_at DESC, id DESC")
    }

    public func find(id: Int, on tenant: TenantConnection) async throws -> FAQDraft? {
        try await tenant.first(FAQDraft.self, "SELECT \(unescaped: FAQDraft.columns) FROM faq_drafts WHERE id = \(id)")
    }

    /// Deletes a draft; its source when there was one.
    public func delete(id: Int, on tenant: TenantConnection) async throws -> String? {
        try await tenant.value(String.self, "DELETE FROM faq_drafts WHERE id = \(id) RETURNING source")
    }

    /// Stores a run's drafts in place of the drafts still waiting from the same sources (so a run that is repeated,
    /// or retried after a crash, leaves one set per source). Returns how many were stored.
    @discardableResult
    func replace(sources: [String], with drafts: [FAQDraft.Proposed], on tenant: TenantConnection) async throws -> Int {
        try await tenant.execute("DELETE FROM faq_drafts WHERE source = ANY(\(sources))")
        for draft in drafts {
            try await tenant.execute(
                """
                INSERT INTO faq_drafts (question, phrasings, answer, source)
                VALUES (\(draft.question), \(draft.phrasings), \(draft.answer), \(draft.source))
                """)
        }
        return drafts.count
    }

    /// The questions and phrasings the shop's FAQ has, and the questions of drafts from other sources (a new draft that
    /// repeats one is dropped).
    func knownQuestions(except sources: [String], on tenant: TenantConnection) async throws -> [String] {
        try await tenant.values(
            String.self,
            """
            SELECT question FROM faq_entries UNION ALL SELECT unnest(phrasings) FROM faq_entries
            UNION ALL SELECT question FROM faq_drafts WHERE NOT source = ANY(\(sources))
            """)
    }

    /// The help articles drafts may come from, as the picker lists them.
    public func articles(on tenant: TenantConnection) async throws -> [(slug: String, title: String)] {
        try await tenant.values((String, String).self, "SELECT slug, title FROM help_articles ORDER BY position, id").map {
            (slug: $0.0, title: $0.1)
        }
    }

    /// A shop's latest draft job of each source (waiting, running, or failed with its reason), newest first.
    public func jobs(tenantID: UUID, on tenant: TenantConnection) async throws -> [(source: String, status: String, error: String?)] {
        try await tenant.values(
            (String, String, String?).self,
            """
            SELECT DISTINCT ON (source) source, status, last_error FROM (
                SELECT coalesce('article:' || (payload->>'article'), 'conversations') AS source, status, last_error, created_at, id
                FROM platform.jobs WHERE tenant_id = \(tenantID) AND kind = \(DraftFAQEntries.kind)
                    AND created_at > now() - interval '7 days') j
            ORDER BY source, created_at DESC, id DESC
            """
        ).map { (source: $0.0, status: $0.1, error: $0.2) }
    }
}

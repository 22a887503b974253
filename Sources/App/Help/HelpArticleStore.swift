import Foundation
import Logging
import PostgresNIO

/// Help articles in a tenant's schema. The public pages' reads are single prepared statements through the door
/// (`TenantDatabase.read`); the editor's and the API's work runs inside the tenant's transaction (`on:`).
public struct HelpArticleStore: Sendable {
    let tenants: TenantDatabase
    private let brandings = DecodedBrandings()

    public init(tenants: TenantDatabase) {
        self.tenants = tenants
    }

    // MARK: The public help centre

    /// The index page in one round trip: the tenant's branding (read fresh, not cached) and every article's title and
    /// excerpt, in order. A help centre without articles has no rows, and its page uses the directory's branding.
    public func indexPage(
        _ tenant: TenantRecord, logger: Logger? = nil
    ) async throws -> (branding: Branding?, articles: [HelpArticleSummary]) {
        let rows = try await tenants.read(tenant, Self.index(tenant), logger: logger)
        return (rows.first.map { brandings.branding(fromJSON: $0.branding) }, rows.map(\.summary))
    }

    /// The index statement: the branding is an uncorrelated sub-select, read once per page rather than once per row.
    static func index(_ tenant: TenantRecord) -> TenantStatement<(branding: String, summary: HelpArticleSummary)> {
        TenantStatement(
            name: "help.index",
            sql: """
                SELECT (SELECT t.branding::text FROM platform.tenants t WHERE t.id = $1), a.slug, a.title, a.excerpt
                FROM {schema}.help_articles a ORDER BY a.position, a.id
                """,
            binds: [PostgresData(uuid: tenant.id)]
        ) { row in
            let (branding, slug, title, excerpt) = try row.decode((String, String, String, String).self)
            return (branding, HelpArticleSummary(slug: slug, title: title, excerpt: excerpt))
        }
    }

    /// One article and the titles of the others (for the sidebar), or `nil` article when the slug is unknown.
    public func article(
        _ slug: String, _ tenant: TenantRecord, logger: Logger? = nil
    ) async throws -> (article: HelpArticle?, others: [HelpArticleSummary]) {
        let rows = try await tenants.read(
            tenant,
            TenantStatement(
                name: "help.article",
                sql: """
                    SELECT slug, title, CASE WHEN slug = $1 THEN body END, position, updated_at
                    FROM {schema}.help_articles ORDER BY position, id
                    """,
                binds: [PostgresData(string: slug)]
            ) { row in try row.decode((String, String, String?, Int, Date).self) }, logger: logger)
        let found = rows.first { $0.2 != nil }.map {
            HelpArticle(slug: $0.0, title: $0.1, body: $0.2 ?? "", position: $0.3, updatedAt: $0.4)
        }
        return (found, rows.map { HelpArticleSummary(slug: $0.0, title: $0.1, excerpt: "") })
    }

    /// Full-text search in Russian and English (the `russian` configuration stems both), best matches first; words
    /// typed in part also match as prefixes.
    public func search(_ query: String, _ tenant: TenantRecord, limit: Int = 20, logger: Logger? = nil) async throws -> [HelpSearchHit] {
        try await tenants.read(
            tenant,
            TenantStatement(
                name: "help.search",
                sql: """
                    WITH q AS (SELECT websearch_to_tsquery('pg_catalog.russian', $1)
                        || CASE WHEN $2 = '' THEN ''::tsquery ELSE to_tsquery('pg_catalog.russian', $2) END AS q)
                    SELECT a.slug, a.title,
                        ts_headline('pg_catalog.russian', a.body, q.q,
                            'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=35, MinWords=15, MaxFragments=1')
                    FROM {schema}.help_articles a, q
                    WHERE a.search @@ q.q
                    ORDER BY ts_rank(a.search, q.q) DESC, a.position
                    LIMIT $3
                    """,
                binds: [PostgresData(string: query), PostgresData(string: Self.prefixQuery(query)), PostgresData(int: limit)]
            ) { row in
                let (slug, title, fragment) = try row.decode((String, String, String).self)
                return HelpSearchHit(slug: slug, title: title, fragment: fragment)
            }, logger: logger)
    }

    /// `word1:* & word2:*` from the letters and digits typed, or "" when there are none.
    static func prefixQuery(_ query: String) -> String {
        let words = query.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).prefix(8)
        return words.map { "\($0):*" }.joined(separator: " & ")
    }

    /// How many articles the tenant has and when one last changed (the dashboard).
    public func figures(_ tenant: TenantRecord) async throws -> (count: Int, lastEdit: Date?) {
        let rows = try await tenants.read(
            tenant,
            TenantStatement(name: "help.figures", sql: "SELECT count(*)::int, max(updated_at) FROM {schema}.help_articles") { row in
                try row.decode((Int, Date?).self)
            })
        return rows.first.map { ($0.0, $0.1) } ?? (0, nil)
    }

    // MARK: Inside the tenant's transaction (the editor, the API, tenants.yml)

    /// Every article in the help centre's order, without bodies.
    public func list(on tenant: TenantConnection) async throws -> [EditorArticle] {
        try await tenant.all(
            EditorArticle.self, "SELECT id::int, slug, title, '', position, updated_at FROM help_articles ORDER BY position, id")
    }

    public func find(id: Int, on tenant: TenantConnection) async throws -> EditorArticle? {
        try await tenant.first(EditorArticle.self, "SELECT \(unescaped: EditorArticle.columns) FROM help_articles WHERE id = \(id)")
    }

    /// Up to `limit` articles with ids above `after`, in id order, without their bodies (the API's list).
    public func page(after: Int, limit: Int, on tenant: TenantConnection) async throws -> [EditorArticle] {
        try await tenant.all(
            EditorArticle.self,
            "SELECT id::int, slug, title, '', position, updated_at FROM help_articles WHERE id > \(after) ORDER BY id LIMIT \(limit)")
    }

    /// Adds an article at the end; returns its id.
    public func create(_ article: HelpArticle, on tenant: TenantConnection) async throws -> Int {
        guard
            let id = try await tenant.value(
                Int.self,
                """
                INSERT INTO help_articles (slug, title, body, position)
                VALUES (\(article.slug), \(article.title), \(article.body), (SELECT coalesce(max(position), -1) + 1 FROM help_articles))
                RETURNING id::int
                """)
        else { throw IdentityError.notFound }
        return id
    }

    /// Changes an article's slug, title and body; `false` when there is no such article.
    public func update(id: Int, _ article: HelpArticle, on tenant: TenantConnection) async throws -> Bool {
        try await !tenant.rows(
            """
            UPDATE help_articles SET slug = \(article.slug), title = \(article.title), body = \(article.body), updated_at = now()
            WHERE id = \(id) RETURNING id
            """
        ).isEmpty
    }

    /// Deletes an article; returns its slug, or `nil` when there was none.
    public func delete(id: Int, on tenant: TenantConnection) async throws -> String? {
        try await tenant.value(String.self, "DELETE FROM help_articles WHERE id = \(id) RETURNING slug")
    }

    /// Moves an article one place up (`by: -1`) or down (`by: 1`); positions are renumbered 0, 1, 2, … on the way.
    public func move(id: Int, by offset: Int, on tenant: TenantConnection) async throws -> Bool {
        var order = try await tenant.values(Int.self, "SELECT id::int FROM help_articles ORDER BY position, id FOR UPDATE")
        guard let index = order.firstIndex(of: id) else { return false }
        let target = index + offset
        guard order.indices.contains(target) else { return true }
        order.swapAt(index, target)
        try await tenant.execute(
            """
            UPDATE help_articles a SET position = o.n - 1
            FROM unnest(\(order)::bigint[]) WITH ORDINALITY AS o(id, n) WHERE a.id = o.id AND a.position <> o.n - 1
            """)
        return true
    }

    /// What an upsert did.
    public enum Upsert: Sendable {
        case created, updated, unchanged
    }

    /// Inserts or updates an article by slug (an unchanged article is not written).
    @discardableResult
    public func upsert(_ article: HelpArticle, on tenant: TenantConnection) async throws -> Upsert {
        let inserted = try await tenant.value(
            Bool.self,
            """
            INSERT INTO help_articles AS a (slug, title, body, position)
            VALUES (\(article.slug), \(article.title), \(article.body), \(article.position))
            ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body, position = EXCLUDED.position,
                updated_at = now()
            WHERE (a.title, a.body, a.position) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.body, EXCLUDED.position)
            RETURNING (xmax = 0)
            """)
        guard let inserted else { return .unchanged }
        return inserted ? .created : .updated
    }

    /// Every article, in order (manifest diffing, export checks).
    public func all(on tenant: TenantConnection) async throws -> [HelpArticle] {
        try await tenant.all(HelpArticle.self, "SELECT slug, title, body, position, updated_at FROM help_articles ORDER BY position, id")
    }

    /// Deletes the articles whose slugs are not in `keep`; returns their slugs.
    public func deleteAll(except keep: [String], on tenant: TenantConnection) async throws -> [String] {
        try await tenant.values(String.self, "DELETE FROM help_articles WHERE NOT (slug = ANY(\(keep))) RETURNING slug")
    }
}

/// An article as the editor and the API list it.
public struct EditorArticle: Sendable, RowDecodable {
    public var id: Int
    public var slug: String
    public var title: String
    public var body: String
    public var position: Int
    public var updatedAt: Date

    static let columns = "id::int, slug, title, body, position, updated_at"

    public init(row: PostgresRow) throws {
        (id, slug, title, body, position, updatedAt) = try row.decode((Int, String, String, String, Int, Date).self)
    }
}

extension HelpArticle: RowDecodable {
    public init(row: PostgresRow) throws {
        let (slug, title, body, position, updatedAt) = try row.decode((String, String, String, Int, Date).self)
        self.init(slug: slug, title: title, body: body, position: position, updatedAt: updatedAt)
    }
}

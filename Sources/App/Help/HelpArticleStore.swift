import Foundation
import PostgresNIO

/// SQL for help articles; every function takes a connection from `TenantDatabase.withTenant`.
public enum HelpArticleStore {
    /// The help centre's index page in one statement and one round trip: the tenant's branding (read fresh, not
    /// cached) and every article's title and excerpt, in order.
    public static func indexPage(
        _ scope: TenantScope, in database: TenantDatabase
    ) async throws -> (
        branding: Branding?, articles: [HelpArticleSummary]
    ) {
        let rows = try await database.read(scope, indexStatement(scope))
        return try await collectIndex(rows)
    }

    static func indexStatement(_ scope: TenantScope) -> TenantRead {
        TenantRead(
            // The branding is an uncorrelated sub-select, read and converted once per page rather than once per row
            // (a third cheaper to plan and run than a join); a help centre without articles returns no rows, and its
            // page then uses the directory's copy of the branding.
            sql: """
                SELECT (SELECT t.branding::text FROM platform.tenants t WHERE t.id = ($1[1])::uuid), a.slug, a.title, a.excerpt
                FROM help_articles a
                ORDER BY a.position, a.id
                """,
            columns: "branding text, slug text, title text, excerpt text",
            arguments: [scope.id.uuidString])
    }

    static func collectIndex(_ rows: PostgresRowSequence) async throws -> (branding: Branding?, articles: [HelpArticleSummary]) {
        var branding: Branding?
        var articles: [HelpArticleSummary] = []
        articles.reserveCapacity(32)
        var first = true
        for try await (brandingJSON, slug, title, excerpt) in rows.decode((String?, String, String, String).self) {
            if first {
                branding = brandingJSON.map(Branding.fromJSON)
                first = false
            }
            articles.append(HelpArticleSummary(slug: slug, title: title, excerpt: excerpt))
        }
        return (branding, articles)
    }

    /// One article and the titles of the others (for the sidebar), or `nil` article when the slug is unknown.
    public static func article(
        _ slug: String, _ scope: TenantScope, in database: TenantDatabase
    ) async throws -> (article: HelpArticle?, others: [HelpArticleSummary]) {
        let rows = try await database.read(
            scope,
            TenantRead(
                sql: """
                    SELECT slug, title, CASE WHEN slug = $1[1] THEN body END, position, updated_at
                    FROM help_articles ORDER BY position, id
                    """,
                columns: "slug text, title text, body text, position integer, updated_at timestamptz",
                arguments: [slug]))
        var found: HelpArticle?
        var others: [HelpArticleSummary] = []
        for try await (rowSlug, title, body, position, updatedAt) in rows.decode((String, String, String?, Int, Date).self) {
            if let body {
                found = HelpArticle(slug: rowSlug, title: title, body: body, position: position, updatedAt: updatedAt)
            }
            others.append(HelpArticleSummary(slug: rowSlug, title: title, excerpt: ""))
        }
        return (found, others)
    }

    /// Full-text search in Russian and English (the `russian` configuration stems both), best matches first; words
    /// typed in part also match as prefixes.
    public static func search(
        _ query: String, _ scope: TenantScope, in database: TenantDatabase, limit: Int = 20
    ) async throws -> [HelpSearchHit] {
        let rows = try await database.read(
            scope,
            TenantRead(
                sql: """
                    WITH q AS (SELECT websearch_to_tsquery('pg_catalog.russian', $1[1])
                        || CASE WHEN $1[2] = '' THEN ''::tsquery ELSE to_tsquery('pg_catalog.russian', $1[2]) END AS q)
                    SELECT a.slug, a.title,
                        ts_headline('pg_catalog.russian', a.body, q.q,
                            'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=35, MinWords=15, MaxFragments=1')
                    FROM help_articles a, q
                    WHERE a.search @@ q.q
                    ORDER BY ts_rank(a.search, q.q) DESC, a.position
                    LIMIT ($1[3])::integer
                    """,
                columns: "slug text, title text, fragment text",
                arguments: [query, prefixQuery(query), String(limit)]))
        var hits: [HelpSearchHit] = []
        for try await (slug, title, fragment) in rows.decode((String, String, String).self) {
            hits.append(HelpSearchHit(slug: slug, title: title, fragment: fragment))
        }
        return hits
    }

    /// `word1:* & word2:*` from the letters and digits typed, or "" when there are none.
    static func prefixQuery(_ query: String) -> String {
        let words = query.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).prefix(8)
        return words.map { "\($0):*" }.joined(separator: " & ")
    }

    /// What an upsert did.
    public enum Upsert: Sendable {
        case created, updated, unchanged
    }

    /// Inserts or updates an article by slug (an unchanged article is not written).
    @discardableResult
    public static func upsert(_ article: HelpArticle, on tenant: TenantConnection) async throws -> Upsert {
        let rows = try await tenant.query(
            """
            INSERT INTO help_articles AS a (slug, title, body, position)
            VALUES (\(article.slug), \(article.title), \(article.body), \(article.position))
            ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body, position = EXCLUDED.position,
                updated_at = now()
            WHERE (a.title, a.body, a.position) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.body, EXCLUDED.position)
            RETURNING (xmax = 0)
            """
        ).collect()
        guard let inserted = try rows.first?.decode(Bool.self) else { return .unchanged }
        return inserted ? .created : .updated
    }

    /// Every article, in order (manifest diffing, export checks).
    public static func all(on tenant: TenantConnection) async throws -> [HelpArticle] {
        var result: [HelpArticle] = []
        let rows = try await tenant.query("SELECT slug, title, body, position, updated_at FROM help_articles ORDER BY position, id")
        for try await (slug, title, body, position, updatedAt) in rows.decode((String, String, String, Int, Date).self) {
            result.append(HelpArticle(slug: slug, title: title, body: body, position: position, updatedAt: updatedAt))
        }
        return result
    }

    /// Deletes the articles whose slugs are not in `keep`; returns their slugs.
    public static func deleteAll(except keep: [String], on tenant: TenantConnection) async throws -> [String] {
        var deleted: [String] = []
        let rows = try await tenant.query("DELETE FROM help_articles WHERE NOT (slug = ANY(\(keep))) RETURNING slug")
        for try await slug in rows.decode(String.self) { deleted.append(slug) }
        return deleted
    }

}

import Foundation
import PostgresNIO

/// An article as the editor lists it.
public struct EditorArticle: Sendable {
    public var id: Int
    public var slug: String
    public var title: String
    public var body: String
    public var position: Int
    public var updatedAt: Date
}

/// The panel's article editor: by id, in the order the help centre shows them. Every call runs inside the tenant's
/// transaction (`TenantDatabase.withTenant`).
extension HelpArticleStore {
    public static func list(on tenant: TenantConnection) async throws -> [EditorArticle] {
        let rows = try await tenant.query(
            "SELECT id::int, slug, title, '', position, updated_at FROM help_articles ORDER BY position, id")
        return try await collect(rows)
    }

    public static func find(id: Int, on tenant: TenantConnection) async throws -> EditorArticle? {
        let rows = try await tenant.query(
            "SELECT id::int, slug, title, body, position, updated_at FROM help_articles WHERE id = \(id)")
        return try await collect(rows).first
    }

    /// Adds an article at the end; returns its id.
    public static func create(_ article: HelpArticle, on tenant: TenantConnection) async throws -> Int {
        let rows = try await tenant.query(
            """
            INSERT INTO help_articles (slug, title, body, position)
            VALUES (\(article.slug), \(article.title), \(article.body), (SELECT coalesce(max(position), -1) + 1 FROM help_articles))
            RETURNING id::int
            """)
        for try await (id) in rows.decode(Int.self) { return id }
        throw IdentityError.notFound
    }

    /// Changes an article's slug, title and body; `false` when there is no such article.
    public static func update(id: Int, _ article: HelpArticle, on tenant: TenantConnection) async throws -> Bool {
        let rows = try await tenant.query(
            """
            UPDATE help_articles SET slug = \(article.slug), title = \(article.title), body = \(article.body), updated_at = now()
            WHERE id = \(id) RETURNING id
            """)
        for try await _ in rows { return true }
        return false
    }

    /// Deletes an article; returns its slug, or `nil` when there was none.
    public static func delete(id: Int, on tenant: TenantConnection) async throws -> String? {
        let rows = try await tenant.query("DELETE FROM help_articles WHERE id = \(id) RETURNING slug")
        for try await (slug) in rows.decode(String.self) { return slug }
        return nil
    }

    /// Moves an article one place up (`by: -1`) or down (`by: 1`); positions are renumbered 0, 1, 2, … on the way.
    public static func move(id: Int, by offset: Int, on tenant: TenantConnection) async throws -> Bool {
        let rows = try await tenant.query("SELECT id::int FROM help_articles ORDER BY position, id FOR UPDATE")
        var order: [Int] = []
        for try await (value) in rows.decode(Int.self) { order.append(value) }
        guard let index = order.firstIndex(of: id) else { return false }
        let target = index + offset
        guard order.indices.contains(target) else { return true }
        order.swapAt(index, target)
        try await tenant.query(
            """
            UPDATE help_articles a SET position = o.n - 1
            FROM unnest(\(order)::bigint[]) WITH ORDINALITY AS o(id, n) WHERE a.id = o.id AND a.position <> o.n - 1
            """)
        return true
    }

    private static func collect(_ rows: PostgresRowSequence) async throws -> [EditorArticle] {
        var articles: [EditorArticle] = []
        for try await (id, slug, title, body, position, updated) in rows.decode((Int, String, String, String, Int, Date).self) {
            articles.append(EditorArticle(id: id, slug: slug, title: title, body: body, position: position, updatedAt: updated))
        }
        return articles
    }
}

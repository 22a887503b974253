import Foundation
import Hummingbird
import PostgresNIO

/// The shop half of the API: a shop's key manages its help articles, through the one door to tenant data
/// (`TenantDatabase.withTenant`).
struct ArticlesAPIController: Sendable {
    let articles: HelpArticleStore
    let tenants: TenantDatabase
    let directory: TenantDirectory
    let auditLog: AuditLog
    let texts: [String: String]

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("articles", use: list)
        group.post("articles", use: create)
        group.get("articles/:id", use: show)
        group.patch("articles/:id", use: update)
        group.delete("articles/:id", use: delete)
    }

    struct ArticleJSON: Encodable {
        let id: Int
        let slug: String
        let title: String
        /// Left out of lists.
        let body: String?
        let position: Int
        let updatedAt: Date

        enum CodingKeys: String, CodingKey {
            case id, slug, title, body, position
            case updatedAt = "updated_at"
        }

        init(_ article: EditorArticle, withBody: Bool) {
            id = article.id
            slug = article.slug
            title = article.title
            body = withBody ? article.body : nil
            position = article.position
            updatedAt = article.updatedAt
        }
    }

    struct ArticleBody: Decodable {
        var title: String?
        var slug: String?
        var body: String?
    }

    /// Articles in id order (the order they were created), a page at a time.
    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.articlesRead)
        let tenant = try await shop(context)
        let page = try PageRequest(request)
        let after =
            try page.after.map { key in
                guard let id = Int(key), id > 0 else { throw PageRequest.badCursor }
                return id
            } ?? 0
        let list = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) {
            try await articles.page(after: after, limit: page.limit + 1, on: $0)
        }
        return APIJSON.response(page.page(list, key: { String($0.id) }, item: { ArticleJSON($0, withBody: false) }))
    }

    @Sendable func show(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.articlesRead)
        let tenant = try await shop(context)
        let id = try articleID(context)
        guard
            let article = try await tenants.withTenant(
                tenant, readOnly: true, logger: context.logger, { try await articles.find(id: id, on: $0) })
        else {
            throw Self.noSuchArticle
        }
        return APIJSON.response(ArticleJSON(article, withBody: true))
    }

    @Sendable func create(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.articlesWrite)
        let tenant = try await shop(context)
        let body = try await APIJSON.decode(ArticleBody.self, from: request, fields: ["title", "slug", "body"])
        let article = try checked(title: body.title ?? "", slug: body.slug ?? "", body: body.body ?? "")
        let created = try await write(tenant, context) { connection in
            let id = try await articles.create(article, on: connection)
            try await auditLog.record(context.audit("article.created", target: article.slug), on: connection)
            return try await articles.find(id: id, on: connection)
        }
        guard let created else { throw Self.noSuchArticle }
        var response = APIJSON.response(ArticleJSON(created, withBody: true), status: .created)
        response.headers[.location] = "/api/v1/articles/\(created.id)"
        return response
    }

    /// Changes the fields given; the others keep their values.
    @Sendable func update(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.articlesWrite)
        let tenant = try await shop(context)
        let id = try articleID(context)
        let body = try await APIJSON.decode(ArticleBody.self, from: request, fields: ["title", "slug", "body"])
        let updated = try await write(tenant, context) { connection -> EditorArticle? in
            guard let current = try await articles.find(id: id, on: connection) else { return nil }
            let article = try checked(
                title: body.title ?? current.title, slug: body.slug ?? current.slug, body: body.body ?? current.body)
            guard try await articles.update(id: id, article, on: connection) else { return nil }
            try await auditLog.record(context.audit("article.updated", target: article.slug), on: connection)
            return try await articles.find(id: id, on: connection)
        }
        guard let updated else { throw Self.noSuchArticle }
        return APIJSON.response(ArticleJSON(updated, withBody: true))
    }

    @Sendable func delete(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.articlesWrite)
        let tenant = try await shop(context)
        let id = try articleID(context)
        let slug = try await tenants.withTenant(tenant, logger: context.logger) { connection -> String? in
            guard let slug = try await articles.delete(id: id, on: connection) else { return nil }
            try await auditLog.record(context.audit("article.deleted", target: slug), on: connection)
            return slug
        }
        guard slug != nil else { throw Self.noSuchArticle }
        return APIJSON.noContent()
    }

    // MARK: Helpers

    static let noSuchArticle = APIError.notFound("There is no such article.")

    /// The article as the editor would save it, or a 422 with the editor's own messages.
    private func checked(title raw: String, slug: String, body: String) throws -> HelpArticle {
        let title = raw.apiText
        let text = body.replacingOccurrences(of: "\r\n", with: "\n").apiText
        var (slug, errors) = HelpArticle.check(title: title, slug: slug.apiText, body: text)
        // Lengths as sent, as the document counts them.
        if raw.databaseLength > 200 { errors["title"] = "form_too_long" }
        if body.databaseLength > 100_000 { errors["body"] = "form_too_long" }
        guard errors.isEmpty else {
            throw APIError.validation(
                errors.sorted { $0.key < $1.key }.map { FieldProblem(field: $0.key, message: texts[$0.value] ?? $0.value) })
        }
        return HelpArticle(slug: slug, title: title, body: text)
    }

    /// The key's shop, as the directory holds it.
    private func shop(_ context: APIRequestContext) async throws -> TenantRecord {
        guard let tenant = try await directory.tenant(id: try context.tenantID()) else {
            throw APIError.notFound("The key's shop is gone.")
        }
        return tenant
    }

    /// A write in the tenant's transaction; a slug another article has is a field problem, not a 500.
    private func write<T: Sendable>(
        _ tenant: TenantRecord, _ context: APIRequestContext, _ body: @Sendable (TenantConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await tenants.withTenant(tenant, logger: context.logger, body)
        } catch let error as PSQLError where databaseErrorCode(error) == "23505" {
            throw APIError.conflict(field: "slug", texts["articles_slug_taken"] ?? "Taken.")
        }
    }

    private func articleID(_ context: APIRequestContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else { throw Self.noSuchArticle }
        return id
    }
}

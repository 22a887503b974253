import Foundation
import Hummingbird
import PostgresNIO

/// The help-articles editor: list, create, edit with a preview of the public page, reorder, delete.
public struct ArticlesController: Sendable {
    let identity: IdentityServices
    let tenants: TenantDatabase
    let panels: PanelRenderer

    public init(identity: IdentityServices, tenants: TenantDatabase, panels: PanelRenderer) {
        self.identity = identity
        self.tenants = tenants
        self.panels = panels
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("articles", use: list)
        group.get("articles/new", use: newForm)
        group.post("articles/new", use: create)
        group.get("articles/:id", use: editForm)
        group.post("articles/:id", use: update)
        group.post("articles/:id/delete", use: delete)
        group.post("articles/:id/move", use: move)
    }

    struct Row {
        let id: Int
        let slug: String
        let title: String
        let updated: String
        let first: Bool
        let last: Bool
    }

    struct ListPage {
        let rows: [Row]
        let empty: Bool
        let canEdit: Bool
        let count: String
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.viewArticles, request: request)
        let tenant = try tenantOf(panel)
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        let articles = try await tenants.withTenant(tenant.scope, readOnly: true) { try await HelpArticleStore.list(on: $0) }
        let rows = articles.enumerated().map { index, article in
            Row(
                id: article.id, slug: article.slug, title: article.title, updated: DateText.dateTime(article.updatedAt, language: language),
                first: index == 0, last: index == articles.count - 1)
        }
        let page = ListPage(
            rows: rows, empty: rows.isEmpty, canEdit: panel.allows(.editArticles),
            count: (t["articles_count"] ?? "%n").replacingOccurrences(of: "%n", with: NumberText.format(rows.count, language: language)))
        return panels.page(
            "pages/admin/articles", page, panel: panel, context: context, request: request, title: t["nav_articles"] ?? "",
            section: "articles")
    }

    struct FormPage {
        var isNew: Bool
        var action: String
        var id: Int?
        var slug: String
        var title: String
        var body: String
        var errors: [String: String] = [:]
        var hasErrors: Bool { !errors.isEmpty }
        /// Stored for the template (Mustache sees stored properties only).
        var showErrors = false
        var preview: Preview?
        var publicURL: String?
    }

    struct Preview {
        let title: String
        let paragraphs: [String]
    }

    @Sendable func newForm(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.editArticles, request: request)
        return render(FormPage(isNew: true, action: "/admin/articles/new", slug: "", title: "", body: ""), panel, request, context)
    }

    @Sendable func editForm(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.editArticles, request: request)
        let tenant = try tenantOf(panel)
        let id = try articleID(context)
        guard let article = try await tenants.withTenant(tenant.scope, readOnly: true, { try await HelpArticleStore.find(id: id, on: $0) })
        else { throw HTTPError(.notFound) }
        let page = FormPage(
            isNew: false, action: "/admin/articles/\(id)", id: id, slug: article.slug, title: article.title, body: article.body,
            preview: Preview(title: article.title, paragraphs: HelpArticle.paragraphs(of: article.body)), publicURL: "/help/" + article.slug
        )
        return render(page, panel, request, context)
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        try await save(id: nil, request: request, context: context)
    }

    @Sendable func update(request: Request, context: AppRequestContext) async throws -> Response {
        try await save(id: try articleID(context), request: request, context: context)
    }

    /// Creates (`id == nil`) or updates an article: the form again with its errors or a preview, else the write with
    /// its audit entry in the tenant's transaction; a slug another article has is a field error, not a 500.
    private func save(id: Int?, request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.editArticles, request: request)
        let tenant = try tenantOf(panel)
        let t = catalog(request, context)
        var page = submitted(context.form, isNew: id == nil, action: id.map { "/admin/articles/\($0)" } ?? "/admin/articles/new", t: t)
        page.id = id
        if context.form["intent"] == "preview" || page.hasErrors {
            return try render(page, panel, request, context, status: page.hasErrors ? .unprocessableContent : .ok)
                .response(from: request, context: context)
        }
        let article = HelpArticle(slug: page.slug, title: page.title, body: page.body)
        let found: Bool
        do {
            found = try await tenants.withTenant(tenant.scope) { connection in
                if let id {
                    guard try await HelpArticleStore.update(id: id, article, on: connection) else { return false }
                } else {
                    _ = try await HelpArticleStore.create(article, on: connection)
                }
                try await AuditLog.record(
                    panel.audit(id == nil ? "article.created" : "article.updated", target: article.slug), on: connection.connection,
                    logger: identity.logger)
                return true
            }
        } catch let error as PSQLError where databaseErrorCode(error) == "23505" {
            page.errors["slug"] = t["articles_slug_taken"]
            return try render(page, panel, request, context, status: .unprocessableContent).response(from: request, context: context)
        }
        guard found else { throw HTTPError(.notFound) }
        try await identity.sessions.setFlash(
            Flash(.success, t[id == nil ? "articles_created" : "articles_saved"] ?? ""), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin/articles", type: .normal)
    }

    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.editArticles, request: request)
        let tenant = try tenantOf(panel)
        let id = try articleID(context)
        let slug = try await tenants.withTenant(tenant.scope) { connection -> String? in
            guard let slug = try await HelpArticleStore.delete(id: id, on: connection) else { return nil }
            try await AuditLog.record(panel.audit("article.deleted", target: slug), on: connection.connection, logger: identity.logger)
            return slug
        }
        guard slug != nil else { throw HTTPError(.notFound) }
        try await identity.sessions.setFlash(
            Flash(.success, catalog(request, context)["articles_deleted"] ?? ""), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin/articles", type: .normal)
    }

    @Sendable func move(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.editArticles, request: request)
        let tenant = try tenantOf(panel)
        let id = try articleID(context)
        let offset: Int
        switch context.form["direction"] {
        case "up": offset = -1
        case "down": offset = 1
        default: throw HTTPError(.badRequest)
        }
        let moved = try await tenants.withTenant(tenant.scope) { connection in
            guard try await HelpArticleStore.move(id: id, by: offset, on: connection) else { return false }
            try await AuditLog.record(
                panel.audit("article.moved", target: "#\(id)", details: ["direction": offset < 0 ? "up" : "down"]),
                on: connection.connection,
                logger: identity.logger)
            return true
        }
        guard moved else { throw HTTPError(.notFound) }
        return .redirect(to: "/admin/articles", type: .normal)
    }

    // MARK: Helpers

    /// Reads and checks the form, keeping what was typed; an empty slug is made from the title.
    func submitted(_ form: FormData, isNew: Bool, action: String, t: [String: String]) -> FormPage {
        let title = form.text("title")
        let body = form.raw("body").trimmingCharacters(in: .whitespacesAndNewlines)
        let (slug, errors) = HelpArticle.check(title: title, slug: form.text("slug").lowercased(), body: body)
        var page = FormPage(isNew: isNew, action: action, slug: slug, title: title, body: body)
        page.errors = errors.mapValues { t[$0] ?? $0 }
        if !title.isEmpty || !body.isEmpty { page.preview = Preview(title: title, paragraphs: HelpArticle.paragraphs(of: body)) }
        return page
    }

    private func render(
        _ page: FormPage, _ panel: Panel, _ request: Request, _ context: AppRequestContext, status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let t = catalog(request, context)
        let title = page.isNew ? (t["articles_new"] ?? "") : (t["articles_edit"] ?? "")
        var page = page
        page.showErrors = page.hasErrors
        return panels.page(
            "pages/admin/article-form", page, panel: panel, context: context, request: request, title: title, section: "articles",
            crumbs: [("/admin/articles", t["nav_articles"] ?? "")], status: status)
    }

    private func catalog(_ request: Request, _ context: AppRequestContext) -> [String: String] {
        panels.localizer.catalog(context.language(request: request))
    }

    private func articleID(_ context: AppRequestContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else { throw HTTPError(.notFound) }
        return id
    }

    private func tenantOf(_ panel: Panel) throws -> TenantRecord {
        guard let tenant = panel.tenant else { throw HTTPError(.notFound) }
        return tenant
    }
}

/// Latin slugs from titles in Russian or English ("Доставка и оплата" → "dostavka-i-oplata").
enum Transliteration {
    static let table: [Character: String] = [
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "y", "к": "k",
        "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    ]

    static func slug(from title: String) -> String {
        var out = ""
        for character in title.lowercased() {
            if let latin = table[character] {
                out += latin
            } else if character.isASCII, character.isLetter || character.isNumber {
                out.append(character)
            } else if !out.hasSuffix("-"), !out.isEmpty {
                out += "-"
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return String(out.prefix(80)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}

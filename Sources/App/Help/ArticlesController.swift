import Foundation
import Hummingbird
import PostgresNIO

/// The help-articles editor in a shop's panel: list, create, edit with a preview of the public page, reorder, delete.
public struct ArticlesController: Sendable {
    let articles: HelpArticleStore
    let tenants: TenantDatabase
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(articles: HelpArticleStore, tenants: TenantDatabase, sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer) {
        self.articles = articles
        self.tenants = tenants
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.articles, use: list)
        routes.get(.newArticle, use: newForm)
        routes.post(.newArticle, use: create)
        routes.get(.article(), use: editForm)
        routes.post(.article(), use: update)
        routes.post(.deleteArticle(), use: delete)
        routes.post(.moveArticle(), use: move)
    }

    struct Row {
        let title: String
        let updated: String
        let first: Bool
        let last: Bool
        let editURL: String
        let moveURL: String
        let publicURL: String
    }

    struct ListPage {
        let rows: [Row]
        let empty: Bool
        let canEdit: Bool
        let count: String
        let newURL: String
    }

    @Sendable func list(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try Self.tenant(context)
        let language = context.panel.language
        let t = panels.texts(context)
        let list = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { try await articles.list(on: $0) }
        let rows = list.enumerated().map { index, article in
            Row(
                title: article.title, updated: DateText.dateTime(article.updatedAt, language: language), first: index == 0,
                last: index == list.count - 1, editURL: PanelURL.article(article.id).path, moveURL: PanelURL.moveArticle(article.id).path,
                publicURL: SiteURL.helpArticle(article.slug).path)
        }
        let page = ListPage(
            rows: rows, empty: rows.isEmpty, canEdit: context.panel.allows(.editArticles),
            count: (t["articles_count"] ?? "%n").replacingOccurrences(of: "%n", with: NumberText.format(rows.count, language: language)),
            newURL: PanelURL.newArticle.path)
        return panels.page("pages/help/articles", page, context: context, title: t["nav_articles"] ?? "", current: .articles)
    }

    struct FormPage {
        var isNew: Bool
        var action: String
        var slug: String
        var title: String
        var body: String
        var errors: [String: String] = [:]
        var hasErrors: Bool { !errors.isEmpty }
        /// Stored for the template (templates read stored properties of values that are not a `TemplateParent`).
        var showErrors = false
        var preview: Preview?
        var publicURL: String?
        var deleteURL: String?
        var cancelURL = PanelURL.articles.path
        var slugPrefix = SiteURL.help.path + "/"
    }

    struct Preview {
        let title: String
        let paragraphs: [String]
    }

    @Sendable func newForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        render(FormPage(isNew: true, action: PanelURL.newArticle.path, slug: "", title: "", body: ""), context)
    }

    @Sendable func editForm(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try Self.tenant(context)
        let id = try Self.articleID(context)
        guard
            let article = try await tenants.withTenant(
                tenant, readOnly: true, logger: context.logger, { try await articles.find(id: id, on: $0) })
        else { throw HTTPError(.notFound) }
        let page = FormPage(
            isNew: false, action: PanelURL.article(id).path, slug: article.slug, title: article.title, body: article.body,
            preview: Preview(title: article.title, paragraphs: HelpArticle.paragraphs(of: article.body)),
            publicURL: SiteURL.helpArticle(article.slug).path, deleteURL: PanelURL.deleteArticle(id).path)
        return render(page, context)
    }

    @Sendable func create(request: Request, context: PanelRequestContext) async throws -> Response {
        try await save(id: nil, context: context)
    }

    @Sendable func update(request: Request, context: PanelRequestContext) async throws -> Response {
        try await save(id: try Self.articleID(context), context: context)
    }

    /// Creates (`id == nil`) or updates an article: the form again with its errors or a preview, else the write with
    /// its audit entry in the tenant's transaction; a slug another article has is a field error, not a 500.
    private func save(id: Int?, context: PanelRequestContext) async throws -> Response {
        let tenant = try Self.tenant(context)
        let t = panels.texts(context)
        var page = submitted(context.form, isNew: id == nil, action: id.map { PanelURL.article($0).path } ?? PanelURL.newArticle.path, t: t)
        page.deleteURL = id.map { PanelURL.deleteArticle($0).path }
        if context.form["intent"] == "preview" || page.hasErrors {
            return render(page, context, status: page.hasErrors ? .unprocessableContent : .ok).response
        }
        let article = HelpArticle(slug: page.slug, title: page.title, body: page.body)
        let audit = context.panel.audit(id == nil ? "article.created" : "article.updated", target: article.slug)
        let found: Bool
        do {
            found = try await tenants.withTenant(tenant, logger: context.logger) { connection in
                if let id {
                    guard try await articles.update(id: id, article, on: connection) else { return false }
                } else {
                    _ = try await articles.create(article, on: connection)
                }
                try await auditLog.record(audit, on: connection)
                return true
            }
        } catch let error as PSQLError where databaseErrorCode(error) == "23505" {
            page.errors["slug"] = t["articles_slug_taken"]
            return render(page, context, status: .unprocessableContent).response
        }
        guard found else { throw HTTPError(.notFound) }
        try await sessions.setFlash(
            Flash(.success, t[id == nil ? "articles_created" : "articles_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.articles.path, type: .normal)
    }

    @Sendable func delete(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try Self.tenant(context)
        let id = try Self.articleID(context)
        let slug = try await tenants.withTenant(tenant, logger: context.logger) { connection -> String? in
            guard let slug = try await articles.delete(id: id, on: connection) else { return nil }
            try await auditLog.record(context.panel.audit("article.deleted", target: slug), on: connection)
            return slug
        }
        guard slug != nil else { throw HTTPError(.notFound) }
        try await sessions.setFlash(
            Flash(.success, panels.texts(context)["articles_deleted"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.articles.path, type: .normal)
    }

    @Sendable func move(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try Self.tenant(context)
        let id = try Self.articleID(context)
        let offset: Int
        switch context.form["direction"] {
        case "up": offset = -1
        case "down": offset = 1
        default: throw HTTPError(.badRequest)
        }
        let audit = context.panel.audit("article.moved", target: "#\(id)", details: ["direction": offset < 0 ? "up" : "down"])
        let moved = try await tenants.withTenant(tenant, logger: context.logger) { connection in
            guard try await articles.move(id: id, by: offset, on: connection) else { return false }
            try await auditLog.record(audit, on: connection)
            return true
        }
        guard moved else { throw HTTPError(.notFound) }
        return .redirect(to: PanelURL.articles.path, type: .normal)
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

    private func render(_ page: FormPage, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok) -> HTMLPage {
        let t = panels.texts(context)
        let title = page.isNew ? (t["articles_new"] ?? "") : (t["articles_edit"] ?? "")
        var page = page
        page.showErrors = page.hasErrors
        return panels.page(
            "pages/help/article-form", page, context: context, title: title, current: .articles,
            crumbs: [(.articles, t["nav_articles"] ?? "")], status: status)
    }

    static func articleID(_ context: PanelRequestContext) throws -> Int {
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else { throw HTTPError(.notFound) }
        return id
    }

    static func tenant(_ context: PanelRequestContext) throws -> TenantRecord {
        guard let tenant = context.panel.tenant else { throw HTTPError(.notFound) }
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

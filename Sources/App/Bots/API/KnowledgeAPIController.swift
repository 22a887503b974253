import Foundation
import Hummingbird

/// The bot's knowledge for a shop's key: FAQ entries (`/api/v1/faq`, by slug) and the synonym list
/// (`/api/v1/synonyms`, read and replaced whole).
struct KnowledgeAPIController: Sendable {
    let knowledge: KnowledgeStore
    let access: BotAPIAccess
    let auditLog: AuditLog

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("faq", use: list)
        group.post("faq", use: create)
        group.get("faq/:slug", use: show)
        group.put("faq/:slug", use: update)
        group.delete("faq/:slug", use: delete)
        group.get("synonyms", use: synonyms)
        group.put("synonyms", use: replaceSynonyms)
    }

    struct FAQJSON: Encodable {
        let id: Int
        let slug: String
        let question: String
        let phrasings: [String]
        let answer: String
        let buttons: [LinkButton]
        let enabled: Bool
        let position: Int

        init(_ entry: FAQEntry) {
            id = entry.id ?? 0
            slug = entry.slug
            question = entry.question
            phrasings = entry.phrasings
            answer = entry.answer
            buttons = entry.buttons
            enabled = entry.enabled
            position = entry.position
        }
    }

    struct FAQBody: Decodable, Sendable {
        static let fields: Set<String> = [
            "slug", "question", "answer", "phrasings", "buttons", "buttons.*.title", "buttons.*.url", "enabled",
        ]
        var slug, question, answer: String?
        var phrasings: [String]?
        var buttons: [LinkButton]?
        var enabled: Bool?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: JSONKey.self)
            slug = try container.optional(String.self, "slug")
            question = try container.optional(String.self, "question")
            answer = try container.optional(String.self, "answer")
            phrasings = try container.optional([String].self, "phrasings")
            buttons = try container.optional([LinkButton].self, "buttons")
            enabled = try container.optional(Bool.self, "enabled")
        }

        /// `entry` with the fields given; a new entry's slug comes from its question.
        func applied(to entry: FAQEntry) throws -> FAQEntry {
            // Unknown fields were refused by the decoder (`fields`). Lengths as sent, as the OpenAPI document states them (trimming comes after).
            var tooLong: [String: String] = [:]
            if let question, question.databaseLength > 300 { tooLong["question"] = "At most 300 characters." }
            if let answer, answer.databaseLength > 4000 { tooLong["answer"] = "At most 4000 characters." }
            if let buttons, buttons.contains(where: { $0.title.databaseLength > 80 }) {
                tooLong["buttons"] = "Each button needs a title (up to 80 characters) and a link starting with /, https:// or http://."
            }
            if let phrasings, phrasings.contains(where: { $0.databaseLength > 300 }) {
                tooLong["phrasings"] = "Each phrasing has at most 300 characters."
            }
            try BotAPIAccess.refuse(tooLong)
            var entry = entry
            if let question { entry.question = question.apiText }
            if let answer { entry.answer = answer.replacingOccurrences(of: "\r\n", with: "\n").apiText }
            if let phrasings { entry.phrasings = phrasings.map(\.apiText) }
            // A link is checked as sent: no spaces or control characters to trim away.
            if let buttons { entry.buttons = buttons.map { LinkButton(title: $0.title.apiText, url: $0.url) } }
            if let enabled { entry.enabled = enabled }
            if let slug = slug?.apiText, !slug.isEmpty {
                entry.slug = slug
            } else if entry.slug.isEmpty {
                entry.slug = Slug.derived(from: entry.question, prefix: "faq")
            }
            try BotAPIAccess.refuse(KnowledgeStore.check(entry))
            return entry
        }
    }

    static let noSuchEntry = APIError.notFound("There is no such FAQ entry.")
    static let slugTaken = APIError.conflict(field: "slug", "Another entry has this slug.")

    /// Entries in slug order, a page at a time.
    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let page = try PageRequest(request)
        let entries = try await access.read(tenant, context) { try await knowledge.faq(on: $0) }
        return APIJSON.response(page.page(all: entries, key: \.slug, item: FAQJSON.init))
    }

    @Sendable func show(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let slug = context.parameters.get("slug") ?? ""
        guard let entry = try await access.read(tenant, context, { try await knowledge.faq(slug: slug, on: $0) }) else {
            throw Self.noSuchEntry
        }
        return APIJSON.response(FAQJSON(entry))
    }

    /// Adds an entry at the end of the list.
    @Sendable func create(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let body = try await APIJSON.decode(FAQBody.self, from: request, fields: FAQBody.fields)
        let entry = try body.applied(to: FAQEntry(slug: "", question: "", answer: ""))
        let created = try await access.write(tenant, context, field: "faq") { connection -> FAQEntry? in
            if try await knowledge.faq(slug: entry.slug, on: connection) != nil { throw Self.slugTaken }
            let id = try await knowledge.create(entry, on: connection)
            try await auditLog.record(context.audit("faq.created", target: entry.slug), on: connection)
            return try await knowledge.faq(id: id, on: connection)
        }
        guard let created else { throw Self.noSuchEntry }
        var response = APIJSON.response(FAQJSON(created), status: .created)
        response.headers[.location] = "/api/v1/faq/\(created.slug)"
        return response
    }

    /// Changes the fields given (a new `slug` renames the entry); the others keep their values.
    @Sendable func update(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let slug = context.parameters.get("slug") ?? ""
        let body = try await APIJSON.decode(FAQBody.self, from: request, fields: FAQBody.fields)
        let updated = try await access.write(tenant, context, field: "faq") { connection -> FAQEntry? in
            guard let current = try await knowledge.faq(slug: slug, on: connection), let id = current.id else { return nil }
            let entry = try body.applied(to: current)
            if entry.slug != slug, try await knowledge.faq(slug: entry.slug, on: connection) != nil { throw Self.slugTaken }
            guard try await knowledge.update(id: id, entry, on: connection) else { return nil }
            try await auditLog.record(context.audit("faq.updated", target: entry.slug), on: connection)
            return try await knowledge.faq(id: id, on: connection)
        }
        guard let updated else { throw Self.noSuchEntry }
        return APIJSON.response(FAQJSON(updated))
    }

    @Sendable func delete(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let slug = context.parameters.get("slug") ?? ""
        let deleted = try await access.write(tenant, context, field: "faq") { connection -> Bool in
            guard let id = try await knowledge.faq(slug: slug, on: connection)?.id,
                try await knowledge.delete(id: id, on: connection) != nil
            else { return false }
            try await auditLog.record(context.audit("faq.deleted", target: slug), on: connection)
            return true
        }
        guard deleted else { throw Self.noSuchEntry }
        return APIJSON.noContent()
    }

    // MARK: Synonyms

    /// `{"synonyms": [{"word": …, "means": …}]}`, in and out.
    struct SynonymList: Codable, Sendable {
        let synonyms: [Synonym]
    }

    @Sendable func synonyms(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botRead)
        let tenant = try await access.shop(context)
        let list = try await access.read(tenant, context) { try await knowledge.synonyms(on: $0) }
        return APIJSON.response(SynonymList(synonyms: list))
    }

    /// Replaces the whole list (words are stored normalised; repeats and a word meaning itself are dropped).
    @Sendable func replaceSynonyms(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let body = try await APIJSON.decode(SynonymList.self, from: request, fields: ["synonyms", "synonyms.*.word", "synonyms.*.means"])
        if body.synonyms.count > 2000 {
            throw APIError.validation([FieldProblem(field: "synonyms", message: "At most 2000 pairs.")])
        }
        // Each side as sent: 1 to 60 characters with something besides spaces (a blank pair is refused, not dropped).
        var problems: [FieldProblem] = []
        for (index, pair) in body.synonyms.enumerated() {
            for (side, text) in [("word", pair.word), ("means", pair.means)] where text.apiText.isEmpty || text.databaseLength > 60 {
                problems.append(FieldProblem(field: "synonyms.\(index).\(side)", message: "1 to 60 characters, not only spaces."))
            }
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
        let list = try await access.write(tenant, context, field: "synonyms") { connection -> [Synonym] in
            if try await knowledge.replaceSynonyms(body.synonyms, on: connection) {
                try await auditLog.record(context.audit("synonyms.replaced", target: "synonyms"), on: connection)
            }
            return try await knowledge.synonyms(on: connection)
        }
        return APIJSON.response(SynonymList(synonyms: list))
    }
}

import Foundation
import PostgresNIO

/// FAQ entries and synonyms in a tenant's schema, inside the tenant's transaction (the panel, the API, tenants.yml).
/// Writing an entry re-indexes its passages in the same transaction (the table's trigger) and tells every process.
public struct KnowledgeStore: Sendable {
    public init() {}

    static let faqColumns = "id::int, slug, question, phrasings, answer, buttons::text, enabled, position"

    public func faq(on tenant: TenantConnection) async throws -> [FAQEntry] {
        try await tenant.all(FAQRow.self, "SELECT \(unescaped: Self.faqColumns) FROM faq_entries ORDER BY position, id").map(\.entry)
    }

    public func faq(id: Int, on tenant: TenantConnection) async throws -> FAQEntry? {
        try await tenant.first(FAQRow.self, "SELECT \(unescaped: Self.faqColumns) FROM faq_entries WHERE id = \(id)")?.entry
    }

    public func faq(slug: String, on tenant: TenantConnection) async throws -> FAQEntry? {
        try await tenant.first(FAQRow.self, "SELECT \(unescaped: Self.faqColumns) FROM faq_entries WHERE slug = \(slug)")?.entry
    }

    /// Refuses what the table would, as sentences keyed by field.
    public static func check(_ entry: FAQEntry) -> [String: String] {
        var errors: [String: String] = [:]
        if !Slug.isValid(entry.slug) || entry.slug.count > 80 {
            errors["slug"] = "Use 2–40 lower-case Latin letters, digits and single hyphens, starting with a letter."
        }
        if entry.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors["question"] = "A question is required."
        } else if entry.question.databaseLength > 300 {
            errors["question"] = "At most 300 characters."
        }
        if entry.answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors["answer"] = "An answer is required."
        } else if entry.answer.databaseLength > 4000 {
            errors["answer"] = "At most 4000 characters."
        }
        if entry.phrasings.count > 50 { errors["phrasings"] = "At most 50 phrasings." }
        if entry.phrasings.contains(where: { $0.databaseLength > 300 }) {
            errors["phrasings"] = "Each phrasing has at most 300 characters."
        }
        for button in entry.buttons where button.title.isEmpty || button.title.databaseLength > 80 || !Self.isLink(button.url) {
            errors["buttons"] = "Each button needs a title (up to 80 characters) and a link starting with /, https:// or http://."
        }
        return errors
    }

    static func isLink(_ url: String) -> Bool {
        // No White_Space, no control character and no square bracket anywhere (the OpenAPI document's pattern says the
        // same): a bracket belongs to an IPv6 literal, which no shop links to, and a stray one makes a link that
        // clients' URL parsers refuse.
        guard url.databaseLength <= 500,
            !url.unicodeScalars.contains(where: {
                $0.properties.isWhitespace || $0.isASCIIControl || $0 == "[" || $0 == "]"
            })
        else { return false }
        // By code points: a combining mark after the prefix would otherwise join its last character into one.
        let scalars = url.unicodeScalars
        func starts(_ prefix: String) -> Bool { scalars.starts(with: prefix.unicodeScalars) }
        return (starts("/") && !starts("//")) || starts("https://") || starts("http://")
    }

    /// What an upsert did.
    public enum Upsert: Sendable, Equatable {
        case created, updated, unchanged
    }

    /// Inserts or updates an entry by slug (an unchanged one is not written).
    @discardableResult
    public func upsert(_ entry: FAQEntry, on tenant: TenantConnection) async throws -> Upsert {
        let errors = Self.check(entry)
        if let first = errors.sorted(by: { $0.key < $1.key }).first { throw BotSettingsError("\(first.key): \(first.value)") }
        let phrasings = Self.clean(entry.phrasings)
        let inserted = try await tenant.value(
            Bool.self,
            """
            INSERT INTO faq_entries AS f (slug, question, phrasings, answer, buttons, enabled, position)
            VALUES (\(entry.slug), \(entry.question), \(phrasings), \(entry.answer), \(BotJSON.encode(entry.buttons))::jsonb,
                \(entry.enabled), \(entry.position))
            ON CONFLICT (slug) DO UPDATE SET question = EXCLUDED.question, phrasings = EXCLUDED.phrasings, answer = EXCLUDED.answer,
                buttons = EXCLUDED.buttons, enabled = EXCLUDED.enabled, position = EXCLUDED.position, updated_at = now()
            WHERE (f.question, f.phrasings, f.answer, f.buttons, f.enabled, f.position)
                IS DISTINCT FROM (EXCLUDED.question, EXCLUDED.phrasings, EXCLUDED.answer, EXCLUDED.buttons, EXCLUDED.enabled, EXCLUDED.position)
            RETURNING (xmax = 0)
            """)
        guard let inserted else { return .unchanged }
        return inserted ? .created : .updated
    }

    /// Adds an entry at the end; returns its id (a slug in use is refused with a sentence).
    public func create(_ entry: FAQEntry, on tenant: TenantConnection) async throws -> Int {
        let errors = Self.check(entry)
        if let first = errors.sorted(by: { $0.key < $1.key }).first { throw BotSettingsError("\(first.key): \(first.value)") }
        do {
            return try await tenant.value(
                Int.self,
                """
                INSERT INTO faq_entries (slug, question, phrasings, answer, buttons, enabled, position)
                VALUES (\(entry.slug), \(entry.question), \(Self.clean(entry.phrasings)), \(entry.answer),
                    \(BotJSON.encode(entry.buttons))::jsonb, \(entry.enabled), (SELECT coalesce(max(position), -1) + 1 FROM faq_entries))
                RETURNING id::int
                """) ?? 0
        } catch  where databaseErrorCode(error) == "23505" {
            throw BotSettingsError("slug: “\(entry.slug)” is taken by another entry.")
        }
    }

    /// Changes an entry; `false` when there is none.
    public func update(id: Int, _ entry: FAQEntry, on tenant: TenantConnection) async throws -> Bool {
        let errors = Self.check(entry)
        if let first = errors.sorted(by: { $0.key < $1.key }).first { throw BotSettingsError("\(first.key): \(first.value)") }
        do {
            return try await !tenant.rows(
                """
                UPDATE faq_entries SET slug = \(entry.slug), question = \(entry.question), phrasings = \(Self.clean(entry.phrasings)),
                    answer = \(entry.answer), buttons = \(BotJSON.encode(entry.buttons))::jsonb, enabled = \(entry.enabled),
                    updated_at = now()
                WHERE id = \(id) RETURNING id
                """
            ).isEmpty
        } catch  where databaseErrorCode(error) == "23505" {
            throw BotSettingsError("slug: “\(entry.slug)” is taken by another entry.")
        }
    }

    /// Deletes an entry; returns its slug.
    public func delete(id: Int, on tenant: TenantConnection) async throws -> String? {
        try await tenant.value(String.self, "DELETE FROM faq_entries WHERE id = \(id) RETURNING slug")
    }

    /// Deletes the entries whose slugs are not in `keep`; returns their slugs.
    public func deleteFAQ(except keep: [String], on tenant: TenantConnection) async throws -> [String] {
        try await tenant.values(String.self, "DELETE FROM faq_entries WHERE NOT (slug = ANY(\(keep))) RETURNING slug")
    }

    static func clean(_ phrasings: [String]) -> [String] {
        var seen = Set<String>()
        return phrasings.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    // MARK: Synonyms

    public func synonyms(on tenant: TenantConnection) async throws -> [Synonym] {
        try await tenant.values((String, String).self, "SELECT word, means FROM synonyms ORDER BY word, means").map {
            Synonym(word: $0.0, means: $0.1)
        }
    }

    /// Replaces the shop's synonym list; returns whether anything changed.
    @discardableResult
    public func replaceSynonyms(_ list: [Synonym], on tenant: TenantConnection) async throws -> Bool {
        let cleaned = Self.clean(list)
        for synonym in cleaned where synonym.word.count > 60 || synonym.means.count > 60 {
            throw BotSettingsError("“\(synonym.word) → \(synonym.means)”: each side has at most 60 characters.")
        }
        let current = Set(try await synonyms(on: tenant))
        guard current != Set(cleaned) else { return false }
        try await tenant.execute("DELETE FROM synonyms")
        if !cleaned.isEmpty {
            try await tenant.execute(
                "INSERT INTO synonyms (word, means) SELECT * FROM unnest(\(cleaned.map(\.word))::text[], \(cleaned.map(\.means))::text[])")
        }
        return true
    }

    /// Lower case, `ё` as `е`, no punctuation; pairs that say nothing (a word meaning itself) and repeats dropped.
    static func clean(_ list: [Synonym]) -> [Synonym] {
        var seen = Set<Synonym>()
        return list.map { Synonym(word: NormalizedText($0.word).text, means: NormalizedText($0.means).text) }
            .filter { !$0.word.isEmpty && !$0.means.isEmpty && $0.word != $0.means && seen.insert($0).inserted }
    }

    /// Parses the panel's text box: one `word → meaning` (or `word = meaning`, `word: meaning`) per line.
    public static func parseSynonyms(_ text: String) throws -> [Synonym] {
        var list: [Synonym] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let separator = ["→", "->", "=", ":"].first(where: { trimmed.contains($0) }),
                let range = trimmed.range(of: separator)
            else { throw BotSettingsError("Line \(number + 1): write “word → meaning”.") }
            let word = trimmed[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let means = trimmed[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard !word.isEmpty, !means.isEmpty else { throw BotSettingsError("Line \(number + 1): write “word → meaning”.") }
            list.append(Synonym(word: word, means: means))
        }
        return list
    }
}

struct FAQRow: RowDecodable {
    let entry: FAQEntry

    init(row: PostgresRow) throws {
        let (id, slug, question, phrasings, answer, buttons, enabled, position) = try row.decode(
            (Int, String, String, [String], String, String, Bool, Int).self)
        entry = FAQEntry(
            id: id, slug: slug, question: question, phrasings: phrasings, answer: answer,
            buttons: (try? JSONDecoder().decode([LinkButton].self, from: Data(buttons.utf8))) ?? [], enabled: enabled, position: position)
    }
}

import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Everything a bot answers from, read in one read-only transaction: its settings, the shop's knowledge ready for
/// ranking, templates and rules. Cached per shop by `BotSnapshots` and read again when the shop changes any of it.
public struct BotSnapshot: Sendable {
    public var bot: Bot
    public var knowledge: KnowledgeIndex
    public var templates: ResponseTemplates
    public var rules: RuleMatcher
    /// Multi-word synonyms ("сколько стоит" → "цена"), applied to the text before analysis.
    public var phraseSynonyms: [(phrase: String, means: String)]
    /// The language model the bot answers with, when it has one: the provider and its key, still sealed.
    public var model: (provider: LLMProvider, sealedKey: String?, fromPartner: Bool)? = nil
    /// The model the shop's knowledge and queries are embedded with (its first bot's choice, whichever bot this is).
    public var embedding: EmbeddingChoice = .installation

    /// Reads a bot's snapshot (the shop's first bot when `botID` is nil); nil when there is no such bot.
    static func load(botID: Int?, on tenant: TenantConnection) async throws -> BotSnapshot? {
        guard let bot = try await BotStore.find(id: botID, on: tenant) else { return nil }
        var entries: [KnowledgeEntry] = []
        var entryIndex: [String: Int] = [:]
        for row in try await tenant.rows(
            """
            SELECT 'faq', id::int, slug, question, answer, buttons::text FROM faq_entries WHERE enabled
            UNION ALL SELECT 'article', id::int, slug, title, NULL, '[]' FROM help_articles
            ORDER BY 1 DESC, 2
            """)
        {
            let (source, id, slug, title, answer, buttons) = try row.decode((String, Int, String, String, String?, String).self)
            let kind = KnowledgeSource(rawValue: source) ?? .article
            entryIndex[source + ":" + String(id)] = entries.count
            entries.append(
                KnowledgeEntry(
                    source: kind, id: id, slug: slug, title: title, answer: answer,
                    buttons: (try? JSONDecoder().decode([LinkButton].self, from: Data(buttons.utf8))) ?? []))
        }
        var passages: [Passage] = []
        var modelCounts: [String: Int] = [:]
        var passageModels: [String?] = []
        for row in try await tenant.rows(
            "SELECT source, entry_id::int, part, text, tsvector_to_array(lexemes), vector, model FROM knowledge_passages ORDER BY id")
        {
            let (source, entryID, part, text, stems, vector, model) = try row.decode(
                (String, Int, String, String, [String], [Float]?, String?).self)
            guard let entry = entryIndex[source + ":" + String(entryID)], let part = PassagePart(rawValue: part) else { continue }
            if let model, vector != nil { modelCounts[model, default: 0] += 1 }
            passageModels.append(vector == nil ? nil : model)
            passages.append(Passage(entry: entry, part: part, text: text, stems: Set(stems), vector: vector))
        }
        let builtIn = Synonym.builtIn
        var synonyms: [String: [String]] = [:]
        var phrases: [(String, String)] = []
        var offTopic = Set<String>()
        for row in try await tenant.rows(
            """
            SELECT s.word, s.means, tsvector_to_array(to_tsvector('pg_catalog.russian', s.word)),
                tsvector_to_array(to_tsvector('pg_catalog.russian', s.means))
            FROM (SELECT word, means FROM synonyms
                  UNION SELECT * FROM unnest(\(builtIn.map(\.word))::text[], \(builtIn.map(\.means))::text[])
                  UNION SELECT w, NULL FROM unnest(\(OffTopicWords.words)::text[]) w) s
            """)
        {
            let (word, means, wordStems, meansStems) = try row.decode((String, String?, [String], [String]?).self)
            guard let means, let meansStems else {
                // An off-topic word (the only rows without a meaning).
                offTopic.formUnion(wordStems)
                continue
            }
            if wordStems.count == 1, let stem = wordStems.first {
                synonyms[stem, default: []] += meansStems.filter { $0 != stem && !(synonyms[stem] ?? []).contains($0) }
            } else if wordStems.count > 1 {
                phrases.append((NormalizedText(word).text, means))
            }
        }
        let templates = try await tenant.all(ResponseTemplateRow.self, "SELECT name, text, buttons::text FROM response_templates")
        var exampleStems: [String: [Set<String>]] = [:]
        var rules: [Rule] = []
        for row in try await tenant.rows(
            """
            SELECT id::int, name, position, enabled, trigger::text, action::text,
                ARRAY(SELECT array_to_string(tsvector_to_array(to_tsvector('pg_catalog.russian', e)), ' ')
                      FROM jsonb_array_elements_text(coalesce(trigger->'examples', '[]'::jsonb)) e)
            FROM rules ORDER BY position, name
            """)
        {
            let (id, name, position, enabled, trigger, action, examples) = try row.decode(
                (Int, String, Int, Bool, String, String, [String]).self)
            guard let trigger = Rule.Trigger(json: trigger), let action = Rule.Action(json: action) else { continue }
            rules.append(Rule(id: id, name: name, position: position, enabled: enabled, trigger: trigger, action: action))
            exampleStems[name] = examples.map { Set($0.split(separator: " ").map(String.init)) }
        }
        // Vectors from one model only (the one most passages have): cosines across models mean nothing.
        let model = modelCounts.max { $0.value < $1.value }?.key
        for index in passages.indices where passageModels[index] != model { passages[index].vector = nil }
        return BotSnapshot(
            bot: bot,
            knowledge: KnowledgeIndex(
                entries: entries, passages: passages, synonyms: synonyms, offTopicStems: offTopic, model: model),
            templates: ResponseTemplates(templates.map(\.template)), rules: RuleMatcher(rules, exampleStems: exampleStems),
            phraseSynonyms: phrases, model: try await Self.model(for: bot, on: tenant),
            embedding: try await EmbeddingChoice.load(on: tenant))
    }

    /// The bot's own provider and key, or its agency's when the bot follows the agency and the agency has one.
    static func model(
        for bot: Bot, on tenant: TenantConnection
    ) async throws -> (provider: LLMProvider, sealedKey: String?, fromPartner: Bool)? {
        switch bot.llm.mode {
        case .off: return nil
        case .own:
            guard let provider = bot.llm.provider else { return nil }
            let key = try await tenant.value(String.self, "SELECT llm_key FROM bots WHERE id = \(bot.id) AND llm_key IS NOT NULL")
            return (provider, key, false)
        case .partner:
            guard
                let row = try await tenant.value(
                    (String, String?).self,
                    """
                    SELECT p.llm::text, p.llm_key FROM platform.tenants t JOIN platform.partners p ON p.id = t.partner_id
                    WHERE t.id = \(tenant.scope.id) AND p.llm IS NOT NULL
                    """),
                let provider = try? JSONDecoder().decode(LLMProvider.self, from: Data(row.0.utf8))
            else { return nil }
            return (provider, row.1, true)
        }
    }
}

struct ResponseTemplateRow: RowDecodable {
    let template: ResponseTemplate

    init(row: PostgresRow) throws {
        let (name, text, buttons) = try row.decode((String, String, String).self)
        template = ResponseTemplate(
            name: name, text: text, buttons: (try? JSONDecoder().decode([String].self, from: Data(buttons.utf8))) ?? [])
    }
}

/// Bot snapshots cached per shop and bot, dropped when the shop's schema notifies `vitrina_knowledge` (its triggers do
/// on every change of knowledge, synonyms, templates, rules or bot settings).
///
/// The cache serves only while this process listens: without the listener (CLI commands, a lost connection) every
/// message reads a fresh snapshot, so a stale answer cannot come from a notification nobody heard. A load that
/// overlaps an invalidation is not kept (generations).
public final class BotSnapshots: Sendable {
    public static let channel = "vitrina_knowledge"

    private struct State {
        var listening = false
        /// Bumped when everything is forgotten; `generation` per schema when one schema is.
        var epoch: UInt64 = 0
        var generation: [String: UInt64] = [:]
        var cached: [String: (version: Version, snapshot: BotSnapshot)] = [:]
        /// Each shop's embedding choice, from its snapshots or read alone (`embedding(for:)`).
        var choices: [String: (version: Version, choice: EmbeddingChoice)] = [:]

        func version(_ schema: String) -> Version { Version(epoch: epoch, generation: generation[schema, default: 0]) }
    }
    private struct Version: Equatable {
        var epoch: UInt64
        var generation: UInt64
    }
    private let state = Mutex(State())

    public init() {}

    /// The bot's snapshot, from the cache or read in `tenant`'s transaction.
    func snapshot(botID: Int?, schema: SchemaName, on tenant: TenantConnection) async throws -> BotSnapshot? {
        let key = schema.value + "/" + (botID.map(String.init) ?? "default")
        let (cached, version, listening) = state.withLock { state in
            (state.cached[key], state.version(schema.value), state.listening)
        }
        if listening, let cached, cached.version == version { return cached.snapshot }
        guard let snapshot = try await BotSnapshot.load(botID: botID, on: tenant) else { return nil }
        if listening {
            state.withLock { state in
                guard state.listening, state.version(schema.value) == version else { return }
                state.cached[key] = (version, snapshot)
                state.choices[schema.value] = (version, snapshot.embedding)
            }
        }
        return snapshot
    }

    /// Forgets one schema's snapshots, or every one (`nil`: the listener (re)connected and may have missed some).
    public func invalidate(schema: String?) {
        state.withLock { state in
            if let schema {
                state.generation[schema, default: 0] += 1
                state.cached = state.cached.filter { !$0.key.hasPrefix(schema + "/") }
                state.choices[schema] = nil
            } else {
                state.epoch += 1
                state.cached.removeAll()
                state.choices.removeAll()
            }
        }
    }

    /// The shop's embedding choice: from memory when this process knows it is current, else read in one read-only
    /// transaction (and kept). Runs before the message's transaction: no transaction is held across the embedding call.
    func embedding(
        for tenant: TenantRecord, tenants: TenantDatabase, admitting: TenantDatabase.Admission = .active, logger: Logger
    ) async throws -> EmbeddingChoice {
        let (cached, version, listening) = state.withLock { state in
            (state.choices[tenant.schema.value], state.version(tenant.schema.value), state.listening)
        }
        if listening, let cached, cached.version == version { return cached.choice }
        let choice = try await tenants.withTenant(tenant, readOnly: true, admitting: admitting, logger: logger) {
            try await EmbeddingChoice.load(on: $0)
        }
        if listening {
            state.withLock { state in
                guard state.listening, state.version(tenant.schema.value) == version else { return }
                state.choices[tenant.schema.value] = (version, choice)
            }
        }
        return choice
    }

    func setListening(_ listening: Bool) {
        state.withLock { state in
            state.listening = listening
            if !listening {
                state.cached.removeAll()
                state.choices.removeAll()
                state.epoch += 1
            }
        }
    }

    /// Keeps the cache honest in a running process: listens on `channel`.
    func listen(database: Database, logger: Logger) async {
        await Listener(database: database, channel: Self.channel, logger: logger).run(connected: { [self] in setListening($0) }) {
            [self] schema in invalidate(schema: schema)
        }
    }
}

/// Runs `BotSnapshots.listen` for as long as the process serves.
struct BotSnapshotListener: Service {
    let snapshots: BotSnapshots
    let database: Database
    let logger: Logger

    func run() async throws {
        await snapshots.listen(database: database, logger: logger)
    }
}

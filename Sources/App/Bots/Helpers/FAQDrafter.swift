import Foundation
import Logging

/// "Draft FAQ entries": the shop asks (`request`, in its own transaction: one waiting job per source at a time), and
/// the `bot.faq_drafts` job (`run`) reads the source, asks the shop's model for up to five entries with no transaction
/// open, checks them (`FAQDraftPrompt.read`) and stores them in `faq_drafts` for the shop to approve or discard. From
/// conversations, only the shopper's and the operators' texts leave, with e-mail addresses, phone numbers and the
/// people's names masked. A reply that is not the JSON asked for stores nothing and fails the job with that sentence.
public struct FAQDrafter: Sendable {
    let tenants: TenantDatabase
    let jobs: JobQueue
    let model: ShopModel
    let store = FAQDraftStore()

    public init(tenants: TenantDatabase, jobs: JobQueue, model: ShopModel) {
        self.tenants = tenants
        self.jobs = jobs
        self.model = model
    }

    /// Conversations resolved this long ago at most are read, and this many of them per run.
    static let window: TimeInterval = 30 * 86_400
    static let conversationsPerRun = 20
    /// How long a run may wait for the model.
    static let timeout: Duration = .seconds(60)

    /// Queues a run for `payload`'s source, in the caller's transaction; `false` when one is waiting or running already.
    /// Throws `HelperError.notFound` for an article the shop does not have.
    public func request(_ payload: DraftFAQEntries, tenant: TenantRecord, on connection: TenantConnection) async throws -> Bool {
        if let slug = payload.article, try await connection.value(Int.self, "SELECT 1 FROM help_articles WHERE slug = \(slug)") == nil {
            throw HelperError.notFound
        }
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        // Two requests at once for one source queue one job: the second waits for the first's commit, then sees it.
        try await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext(\("faq-drafts:" + tenant.id.uuidString + ":" + payload.sourceName)))")
        let pending = try await connection.value(
            Int.self,
            """
            SELECT id::int FROM platform.jobs WHERE tenant_id = \(tenant.id) AND kind = \(DraftFAQEntries.kind)
                AND status IN ('queued', 'running') AND payload = \(json)::jsonb LIMIT 1
            """)
        guard pending == nil else { return false }
        try await jobs.enqueue(payload, tenant: tenant.id, maxAttempts: 3, on: connection)
        return true
    }

    /// What a run reads in its first transaction.
    private struct Prepared: Sendable {
        var access: ShopModel.Access
        var source: DraftSource
        var known: [String]
        var language: BotLanguage
        var shopName: String
    }

    /// The job: drafts and stores the entries; returns how many were stored.
    @discardableResult
    public func run(_ payload: DraftFAQEntries, tenant: TenantRecord, logger: Logger) async throws -> Int {
        let prepared: Prepared?
        do {
            prepared = try await tenants.withTenant(tenant, readOnly: true, logger: logger) { connection -> Prepared? in
                let access = try await model.access(botID: nil, tenant: tenant, on: connection, logger: logger)
                let source: DraftSource
                if let slug = payload.article {
                    guard
                        let (title, body) = try await connection.value(
                            (String, String).self, "SELECT title, body FROM help_articles WHERE slug = \(slug)")
                    else { throw JobFailure.permanent("The help article \(slug) no longer exists.") }
                    source = DraftSource(kind: .article(slug: slug, title: title, body: String(body.prefix(12_000))))
                } else {
                    let conversations = try await resolvedConversations(tenant: tenant, on: connection)
                    guard !conversations.isEmpty else { return nil }
                    source = DraftSource(kind: .conversations(conversations))
                }
                let shopDefault = BotLanguage(rawValue: tenant.resolvedBranding.defaultLanguage ?? "ru") ?? .ru
                let sample = String(source.plainText.prefix(2000))
                return Prepared(
                    access: access, source: source, known: try await store.knownQuestions(except: source.labels, on: connection),
                    language: BotLanguage.detect(sample) ?? shopDefault, shopName: tenant.resolvedBranding.name ?? tenant.name)
            }
        } catch let error as HelperError {
            throw JobFailure.permanent(error.description)
        }
        guard let prepared else {
            logger.info("No conversations resolved by people to draft FAQ entries from")
            return 0
        }
        let messages = FAQDraftPrompt.build(shopName: prepared.shopName, language: prepared.language, source: prepared.source)
        let completion: ChatCompletion
        do {
            completion = try await model.complete(messages, access: prepared.access, timeout: Self.timeout, logger: logger)
        } catch HelperError.provider(let error) {
            // A busy or slow provider may answer later (the queue retries with a backoff); a refused key will not.
            if error.isTransient || error == .timeout { throw HelperError.provider(error) }
            throw JobFailure.permanent(error.description)
        }
        try await model.count(completion.usage, tenant: tenant, tenants: tenants, logger: logger)
        let drafts: [FAQDraft.Proposed]
        do {
            drafts = try FAQDraftPrompt.read(completion.text, source: prepared.source, known: prepared.known)
        } catch let error as HelperError {
            throw JobFailure.permanent(error.description)
        }
        let stored = try await tenants.withTenant(tenant, logger: logger) { connection in
            try await store.replace(sources: prepared.source.labels, with: drafts, on: connection)
        }
        logger.info("FAQ entries drafted", metadata: ["source": "\(payload.sourceName)", "drafts": "\(stored)"])
        return stored
    }

    /// Conversations a person resolved in the window (and since the last run that went through), with an operator's
    /// reply in them and no drafts waiting from them: their shopper's and operators' texts, personal data masked.
    func resolvedConversations(tenant: TenantRecord, on connection: TenantConnection) async throws -> [DraftSource.Conversation] {
        let lastRun = try await connection.value(
            Date.self,
            """
            SELECT max(finished_at) FROM platform.jobs WHERE tenant_id = \(tenant.id) AND kind = \(DraftFAQEntries.kind)
                AND status = 'done' AND payload = '{}'::jsonb HAVING max(finished_at) IS NOT NULL
            """)
        let since = max(Date().addingTimeInterval(-Self.window), lastRun ?? .distantPast)
        let found = try await connection.values(
            (Int, String?, String?, String?).self,
            """
            SELECT c.id::int, co.name, co.email, co.phone FROM conversations c JOIN contacts co ON co.id = c.contact_id
            WHERE c.channel <> 'test'
                AND EXISTS (SELECT 1 FROM conversation_events e WHERE e.conversation_id = c.id AND e.to_state = 'resolved'
                    AND e.actor = 'operator' AND e.created_at >= \(since))
                AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.author = 'operator' AND NOT m.internal)
                AND NOT EXISTS (SELECT 1 FROM faq_drafts d WHERE d.source = 'conversation:' || c.id)
            ORDER BY c.id DESC LIMIT \(Self.conversationsPerRun)
            """)
        guard !found.isEmpty else { return [] }
        let ids = found.map(\.0)
        let operators = try await connection.values(
            String.self,
            """
            SELECT DISTINCT u.name FROM messages m JOIN platform.users u ON u.id = m.author_user_id
            WHERE m.conversation_id = ANY(\(ids)) AND u.name <> ''
            """)
        var conversations = found.map { DraftSource.Conversation(id: $0.0, turns: []) }
        var budget = 24_000
        for (id, author, text) in try await connection.values(
            (Int, String, String).self,
            """
            SELECT conversation_id::int, author, text FROM messages WHERE conversation_id = ANY(\(ids)) AND NOT internal
                AND author IN ('shopper', 'operator') AND text <> '' ORDER BY conversation_id DESC, id
            """)
        {
            guard budget > 0, let index = conversations.firstIndex(where: { $0.id == id }) else { continue }
            let contact = found[index]
            let names = [contact.1].compactMap { $0 } + operators
            var masked = PersonalData.mask(String(text.prefix(1500)), names: names)
            for known in [contact.2, contact.3].compactMap({ $0 }).filter({ !$0.isEmpty }) {
                masked = masked.replacingOccurrences(of: known, with: known.contains("@") ? PersonalData.emailMask : PersonalData.phoneMask)
            }
            budget -= masked.count
            conversations[index].turns.append((from: author == "shopper" ? "customer" : "operator", text: masked))
        }
        return conversations.filter { !$0.operatorText.isEmpty }
    }
}

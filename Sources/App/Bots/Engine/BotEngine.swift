import Foundation
import Logging
import PostgresNIO

/// A shopper's message as a channel (or the test chat, the CLI, the API) hands it to the engine.
public struct ShopperMessage: Sendable {
    public var text: String
    public var channel: ConversationChannel
    /// The shopper's id on the channel (a visitor token, a Telegram user id); nil for a one-off test contact.
    public var externalContactID: String?
    /// Continue this conversation (else the contact's latest on the channel, or a new one).
    public var conversationID: Int?
    /// The channel's id of the message: the same id twice is one message (redeliveries).
    public var channelMessageID: String?
    /// Which bot (else the shop's first).
    public var botID: Int?
    public var contactName: String?
    /// The contact, when the channel knows it already (a widget visitor).
    public var contactID: Int?
    /// What came with the text: a messenger's attachments (photos, documents, voice notes).
    public var parts: [MessagePart] = []
    /// A voice note to transcribe before the bot answers (its connection): `accept` queues `channel.transcribe`
    /// instead of the answer.
    public var transcribeWith: Int?

    public init(
        text: String, channel: ConversationChannel, externalContactID: String? = nil, conversationID: Int? = nil,
        channelMessageID: String? = nil,
        botID: Int? = nil, contactName: String? = nil, contactID: Int? = nil
    ) {
        self.text = text
        self.channel = channel
        self.externalContactID = externalContactID
        self.conversationID = conversationID
        self.channelMessageID = channelMessageID
        self.botID = botID
        self.contactName = contactName
        self.contactID = contactID
    }
}

/// What became of a message.
public struct BotReply: Sendable {
    public var conversationID: Int
    public var shopperMessageID: Int?
    /// The bot's (or the quota's system) message, when one was sent.
    public var messageID: Int?
    public var answer: BotAnswer?
    /// The conversation's state after the message.
    public var state: ConversationState
    /// The message had been received already (same channel message id): nothing new was stored or sent.
    public var duplicate = false
    public var language: BotLanguage
}

/// The conversation the caller named does not exist (or belongs to another bot or channel).
public struct ConversationNotFound: Error, Sendable, CustomStringConvertible {
    public let id: Int
    public var description: String { "There is no conversation \(id)." }
}

/// The shop has no bot (it was deleted).
public struct NoBot: Error, Sendable, CustomStringConvertible {
    public var description: String { "This shop has no bot." }
}

/// Answers shoppers: stores the message, runs the pipeline and stores the answer with its explanation, in one
/// transaction through the tenant door. The query's vector is computed before the transaction opens (a network call
/// never runs inside one); when the embedding model is down, retrieval is lexical and the explanation says so.
public struct BotEngine: Sendable {
    let tenants: TenantDatabase
    let snapshots: BotSnapshots
    let embeddings: (any EmbeddingModel)?
    /// Each shop's embedding model: the installation's (`embeddings`) or its provider's.
    let embeddingModels: EmbeddingModels
    let pipeline: AnswerPipeline
    let conversations = ConversationStore()
    let clock: WallClock
    let logger: Logger
    /// Language models (nil: no bot asks one) and the box their keys are sealed in.
    let models: (any ChatModelSource)?
    let secrets: SecretBox?
    /// Alice's answer budget (`ChannelEndpoints.aliceBudget`); nil keeps `ConversationChannel.answerBudget`.
    var aliceBudget: Duration?

    public init(
        tenants: TenantDatabase, snapshots: BotSnapshots, embeddings: (any EmbeddingModel)?, pipeline: AnswerPipeline = .standard(),
        clock: WallClock = .system, logger: Logger, models: (any ChatModelSource)? = nil, secrets: SecretBox? = nil,
        embeddingModels: EmbeddingModels? = nil
    ) {
        self.tenants = tenants
        self.snapshots = snapshots
        self.embeddings = embeddings
        self.embeddingModels = embeddingModels ?? EmbeddingModels(installation: embeddings)
        self.pipeline = pipeline
        self.clock = clock
        self.logger = logger
        self.models = models
        self.secrets = secrets
    }

    public func reply(to message: ShopperMessage, in tenant: TenantRecord, logger: Logger? = nil) async throws -> BotReply {
        let logger = logger ?? self.logger
        let normalized = NormalizedText(String(message.text.prefix(4000)))
        let query = await embedQuery(normalized, tenant: tenant, logger: logger)
        let started = ContinuousClock.now
        let responded = try await tenants.withTenant(tenant, logger: logger) { connection -> Responded in
            var intake = try await self.intake(message, tenant: tenant, on: connection)
            guard let shopperMessageID = intake.shopperMessageID else {
                return .replied(
                    BotReply(
                        conversationID: intake.conversation.id, state: intake.conversation.state, duplicate: true,
                        language: intake.conversation.language ?? .ru))
            }
            return try await respond(
                to: shopperMessageID, text: message.text, conversation: &intake.conversation, overQuota: intake.overQuota,
                query: query, tenant: tenant, started: started, on: connection)
        }
        switch responded {
        case .replied(let reply): return reply
        case .needsModel(let pending): return try await complete(pending, in: tenant, logger: logger)
        }
    }

    /// A shopper's message stored, in its conversation (locked for the rest of the transaction).
    struct Intake {
        var conversation: Conversation
        /// Nil for a redelivery (the same channel message id): nothing was stored.
        var shopperMessageID: Int?
        /// The month's count and the plan's limit, when the message went over it.
        var overQuota: (used: Int, limit: Int)?
    }

    /// Finds or opens the message's conversation, stores the message and counts it in the month's usage; a resolved
    /// conversation goes back to the bot.
    func intake(_ message: ShopperMessage, tenant: TenantRecord, on connection: TenantConnection) async throws -> Intake {
        var conversation: Conversation
        if let id = message.conversationID {
            // A conversation continues on its own channel only: an API client cannot write into a Telegram chat.
            guard let found = try await conversations.lock(id, on: connection), found.channel == message.channel,
                message.botID == nil || found.botID == message.botID, message.contactID == nil || found.contactID == message.contactID
            else {
                throw ConversationNotFound(id: id)
            }
            conversation = found
        } else {
            var botID = message.botID
            // The shop's default bot comes from its cached snapshot: no round trip on the hot path.
            if botID == nil { botID = try await snapshots.snapshot(botID: nil, schema: tenant.schema, on: connection)?.bot.id }
            guard let botID else { throw NoBot() }
            let contact: Int
            if let known = message.contactID {
                contact = known
            } else {
                contact = try await conversations.contact(
                    channel: message.channel, externalID: message.externalContactID, name: message.contactName, on: connection)
            }
            conversation = try await conversations.open(
                botID: botID, contactID: contact, channel: message.channel,
                reuse: message.externalContactID != nil || message.contactID != nil, on: connection)
        }
        let stored = try await storeShopperMessage(message, conversation: conversation, tenant: tenant, on: connection)
        guard let id = stored.id else { return Intake(conversation: conversation, shopperMessageID: nil) }
        if conversation.state == .resolved {
            conversation.state = try await conversations.apply(.shopperReturned, to: conversation, on: connection)
            conversation.fallbacksInRow = 0
        }
        let overQuota = stored.limit.flatMap { limit in stored.used > limit ? (stored.used, limit) : nil }
        return Intake(conversation: conversation, shopperMessageID: id, overQuota: overQuota)
    }

    /// The query vector, when the shop's passages have vectors from the model that made it (else lexical, and why).
    static func usable(_ query: QueryEmbedding, snapshot: BotSnapshot) -> ([Float]?, String) {
        usable(query.vector, mode: query.mode, snapshot: snapshot, model: query.model)
    }

    /// The query vector, when the shop's passages have vectors from the same model (else lexical, and why).
    static func usable(_ vector: [Float]?, mode: String, snapshot: BotSnapshot, model: String?) -> ([Float]?, String) {
        guard let vector else { return (nil, mode) }
        guard snapshot.knowledge.hasVectors, snapshot.knowledge.model == model else {
            return (nil, "lexical (the knowledge is not embedded yet)")
        }
        return (vector, mode)
    }

    /// Inserts the shopper's message and counts it in the month's usage, in one statement; returns the message's id
    /// (nil for a redelivery), the month's count and the plan's limit.
    private func storeShopperMessage(
        _ message: ShopperMessage, conversation: Conversation, tenant: TenantRecord, on connection: TenantConnection
    ) async throws -> (id: Int?, used: Int, limit: Int?) {
        let row = try await connection.value(
            (Int?, Int?, Int?).self,
            """
            WITH m AS (INSERT INTO messages (conversation_id, channel, author, text, channel_message_id, parts)
                    VALUES (\(conversation.id), \(conversation.channel.rawValue), 'shopper', \(String(message.text.prefix(10000))),
                        \(message.channelMessageID), \(BotJSON.encode(message.parts))::jsonb)
                    ON CONFLICT (channel, channel_message_id) WHERE channel_message_id IS NOT NULL DO NOTHING RETURNING id),
            u AS (INSERT INTO platform.message_usage AS u (tenant_id, month, messages)
                    SELECT \(tenant.id), date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1 FROM m
                    ON CONFLICT (tenant_id, month) DO UPDATE SET messages = u.messages + 1 RETURNING messages),
            c AS (UPDATE conversations SET last_message_at = now() WHERE id = \(conversation.id) AND EXISTS (SELECT 1 FROM m))
            SELECT (SELECT id::int FROM m), (SELECT messages FROM u),
                (SELECT p.max_messages_per_month FROM platform.tenants t JOIN platform.plans p ON p.id = t.plan_id WHERE t.id = \(tenant.id))
            """)
        guard let row else { return (nil, 0, nil) }
        return (row.0, row.1 ?? 0, row.2)
    }

    func touch(_ conversation: Conversation, language: BotLanguage, on connection: TenantConnection) async throws {
        try await connection.execute(
            "UPDATE conversations SET language = \(language.rawValue), updated_at = now() WHERE id = \(conversation.id)")
    }

    /// The query's vector from the shop's model, or nil and why retrieval is lexical.
    func embedQuery(
        _ text: NormalizedText, tenant: TenantRecord, admitting: TenantDatabase.Admission = .active, logger: Logger
    ) async -> QueryEmbedding {
        guard !text.isEmpty else { return .lexical }
        do {
            guard let model = try await embeddingModel(for: tenant, admitting: admitting, logger: logger) else { return .lexical }
            let vectors = try await model.embed([text.forEmbedding], as: .query, logger: logger)
            return QueryEmbedding(vector: vectors.first, mode: "lexical+semantic", model: model.modelID)
        } catch {
            logger.notice("Embeddings unavailable; answering from lexical retrieval", metadata: ["error": "\(error)"])
            return QueryEmbedding(vector: nil, mode: "lexical (embeddings unavailable)", model: nil)
        }
    }

    /// The shop's embedding model, chosen from memory (`BotSnapshots`) when this process knows the shop's choice, else
    /// after one read; the installation's without asking when shops cannot choose.
    func embeddingModel(
        for tenant: TenantRecord, admitting: TenantDatabase.Admission = .active, logger: Logger
    ) async throws -> (any EmbeddingModel)? {
        guard embeddingModels.choosesPerShop else { return embeddingModels.installation }
        let choice: EmbeddingChoice
        do {
            choice = try await snapshots.embedding(for: tenant, tenants: tenants, admitting: admitting, logger: logger)
        } catch {
            // The message's own transaction will say what is wrong; a vector of the installation's model is dropped there
            // when the shop's passages are another model's.
            logger.notice("The shop's embedding model could not be read", metadata: ["error": "\(error)"])
            return embeddingModels.installation
        }
        return try embeddingModels.model(for: choice)
    }
}

/// A shopper's message as a vector, or why there is none.
struct QueryEmbedding: Sendable {
    var vector: [Float]?
    /// How retrieval runs: `lexical+semantic`, `lexical`, or why lexical.
    var mode: String
    /// The id of the model that made the vector, compared with the passages' model.
    var model: String?

    static let lexical = QueryEmbedding(vector: nil, mode: "lexical", model: nil)
}

extension BotJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

/// Why the bot said what it said, as `messages.explanation` stores it and the test chat, the CLI and the API show it.
public struct Explanation: Sendable, Codable, Equatable {
    public var step: AnswerStepKind
    public var entry: EntryReference?
    public var rule: String?
    public var score: Double?
    public var threshold: Double?
    public var candidates: [ExplainedCandidate]
    public var retrieval: String
    public var language: BotLanguage
    public var handoff: HandoffReason?
    public var notes: [String]
    /// The language model's part: the passages sent, the entries cited, the tokens and the time.
    public var model: ModelReport?

    init(answer: BotAnswer, mode: String, language: BotLanguage, threshold: Double?) {
        model = answer.model
        step = answer.step
        entry = answer.entry
        rule = answer.rule
        score = answer.score
        self.threshold = threshold
        candidates = answer.candidates
        retrieval = mode
        self.language = language
        handoff = answer.handoff
        notes = answer.notes
    }

    var json: String { BotJSON.encode(self) }
}

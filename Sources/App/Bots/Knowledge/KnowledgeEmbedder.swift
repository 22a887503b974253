import Foundation
import Logging
import PostgresNIO

/// Embeds a shop's knowledge: the job `bot.embed-knowledge` (queued by the passages' trigger in the transaction that
/// changed them, and by a change of the shop's embedding model: its bot's, its agency's) and the CLI (before it answers,
/// so its answers are a shopper's). Reads the passages without a vector from the shop's model (the installation's or
/// its provider's, `EmbeddingChoice`), embeds them with no transaction open, writes the vectors of the passages whose
/// text is still the same, and goes on until none is left: after a switch of model that is every passage, replaced a
/// batch at a time.
public struct KnowledgeEmbedder: Sendable {
    let tenants: TenantDatabase
    let models: EmbeddingModels
    /// Passages per round.
    let batch: Int

    public init(tenants: TenantDatabase, embeddings: (any EmbeddingModel)?, batch: Int = 32) {
        self.init(tenants: tenants, models: EmbeddingModels(installation: embeddings), batch: batch)
    }

    public init(tenants: TenantDatabase, models: EmbeddingModels, batch: Int = 32) {
        self.tenants = tenants
        self.models = models
        self.batch = batch
    }

    /// How many passages still need a vector from the shop's current model.
    public func pending(_ tenant: TenantRecord) async throws -> Int {
        try await tenants.withTenant(tenant, readOnly: true, admitting: .activeOrSuspended) { connection in
            guard let model = models.modelID(for: try await choice(on: connection)) else { return 0 }
            return try await connection.value(
                Int.self, "SELECT count(*)::int FROM knowledge_passages WHERE vector IS NULL OR model IS DISTINCT FROM \(model)") ?? 0
        }
    }

    /// The shop's current choice (one read; the installation's when shops cannot choose).
    private func choice(on connection: TenantConnection) async throws -> EmbeddingChoice {
        models.choosesPerShop ? try await EmbeddingChoice.load(on: connection) : .installation
    }

    /// Embeds every passage that needs it; returns how many were embedded. `progress` hears the running total.
    @discardableResult
    public func embedMissing(
        _ tenant: TenantRecord, logger: Logger, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> Int {
        let choice = try await tenants.withTenant(tenant, readOnly: true, admitting: .activeOrSuspended) { connection in
            try await self.choice(on: connection)
        }
        guard let embeddings = try models.model(for: choice) else { return 0 }
        let model = embeddings.modelID
        var done = 0
        var skipped = Set<Int>()
        while true {
            let pending = try await tenants.withTenant(tenant, readOnly: true, admitting: .activeOrSuspended) {
                connection -> [(Int, String)] in
                // The shop switched again meanwhile: the job its switch queued embeds with the new model.
                guard try await self.choice(on: connection) == choice else { return [] }
                return try await connection.values(
                    (Int, String).self,
                    """
                    SELECT id::int, text FROM knowledge_passages
                    WHERE (vector IS NULL OR model IS DISTINCT FROM \(model)) AND NOT (id = ANY(\(Array(skipped))))
                    ORDER BY id LIMIT \(batch)
                    """)
            }
            if pending.isEmpty { return done }
            let vectors = try await embeddings.embed(pending.map(\.1), as: .passage, logger: logger)
            guard vectors.count == pending.count else {
                throw EmbeddingError.malformedReply("\(vectors.count) vectors for \(pending.count) texts")
            }
            let literals = vectors.map { "{" + $0.map { String($0) }.joined(separator: ",") + "}" }
            let written = try await tenants.withTenant(tenant, admitting: .activeOrSuspended) { connection in
                try await connection.values(
                    Int.self,
                    """
                    UPDATE knowledge_passages k SET vector = v.vector::real[], model = \(model)
                    FROM unnest(\(pending.map(\.0))::bigint[], \(pending.map(\.1))::text[], \(literals)::text[]) AS v(id, text, vector)
                    WHERE k.id = v.id AND k.text = v.text RETURNING k.id::int
                    """)
            }
            // A passage edited meanwhile is left for the job its edit queued.
            skipped.formUnion(Set(pending.map(\.0)).subtracting(written))
            done += written.count
            progress(done)
        }
    }
}

/// The job that embeds a shop's knowledge after a change.
public struct EmbedKnowledge: JobKind {
    public static let kind = "bot.embed-knowledge"
    public init() {}
}

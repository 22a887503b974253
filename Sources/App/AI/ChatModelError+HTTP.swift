import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

extension ChatModelError {
    /// A provider's refusal, as a person can act on it. Only the status, `Retry-After` and a few words of the body
    /// decide: the body itself (which may quote the key) never goes into the error.
    init(status: Int, headers: HTTPHeaders, body: ByteBuffer, model: String) {
        let text = String(decoding: body.readableBytesView.prefix(16 << 10), as: UTF8.self).lowercased()
        switch status {
        case 401, 403: self = .badKey
        case 402: self = .quota
        case 429: self = Self.speaksOfMoney(text) ? .quota : .rateLimited(retryAfter: Self.retryAfter(headers))
        case 404: self = .modelMissing(model)
        case 408, 500...: self = .unavailable("it answered HTTP \(status)")
        default: self = Self.namesAnUnknownModel(text) ? .modelMissing(model) : .malformed("it refused the request (HTTP \(status))")
        }
    }

    /// Whether a 429's body says the account is out of money rather than going too fast. OpenAI's `insufficient_quota`
    /// says "quota … billing"; YandexGPT's rate limits also say "quota" (a requests-per-second or concurrency quota), so
    /// a "quota" that speaks of requests or rates is a rate limit. (?) The wordings rest on a few samples.
    static func speaksOfMoney(_ body: String) -> Bool {
        if ["insufficient", "billing", "balance", "payment"].contains(where: body.contains) { return true }
        guard body.contains("quota") else { return false }
        return !["rate", "request", "concurren", "per second", "per minute"].contains(where: body.contains)
    }

    /// Whether a refusal (a 400 from some providers) says the model does not exist: OpenAI's `model_not_found`, "the
    /// model `x` does not exist", "unknown model", "model … not found".
    static func namesAnUnknownModel(_ body: String) -> Bool {
        if body.contains("model_not_found") { return true }
        guard body.contains("model") else { return false }
        return ["does not exist", "not found", "unknown model", "no such model", "not exist"].contains(where: body.contains)
    }

    /// `Retry-After` in whole seconds: a number (rounded up) or an HTTP date.
    static func retryAfter(_ headers: HTTPHeaders, now: Date = Date()) -> Int? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds.isFinite, seconds >= 0 { return Int(seconds.rounded(.up)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, Int(date.timeIntervalSince(now).rounded(.up)))
    }

    /// What went wrong on the way to the provider, said in a few words (no addresses with credentials: there are none
    /// in our URLs, and headers never reach an error).
    /// A transport's failure: `.untrusted` for a certificate that does not verify, else `.unavailable` with the reason.
    init(transport error: any Error) {
        let reason = Self.reason(error)
        self = reason == Self.untrustedReason ? .untrusted : .unavailable(reason)
    }

    private static let untrustedReason = "its TLS certificate is not trusted"

    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .remoteConnectionClosed: return "it closed the connection without answering"
        case let error as HTTPClientError where error == .connectTimeout: return "the connection timed out"
        case let error as HTTPClientError where error == .readTimeout: return "it stopped sending its answer"
        case is NIOTooManyBytesError: return "its answer is too large"
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            return "\(error)".contains("CERTIFICATE_VERIFY_FAILED")
                ? untrustedReason : "the TLS handshake failed"
        case let error as IOError: return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOConnectionError:
            return error.connectionErrors.first.map { reason($0.error) } ?? error.dnsAError.map(reason) ?? "it cannot be connected to"
        default: return String("\(error)".prefix(200))
        }
    }
}

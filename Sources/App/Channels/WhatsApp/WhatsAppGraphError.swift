import Foundation

/// Graph's error answer, `{"error": {"message", "type", "code", "error_subcode", "error_data": {"details"}}, "fbtrace_id"}`,
/// and what it means for a send.
public struct WhatsAppGraphError: Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: Int?
    public var subcode: Int?
    public var message: String?
    public var details: String?
    /// `Retry-After` in seconds, when the answer had it.
    public var retryAfter: Int?

    public init(status: Int, code: Int? = nil, subcode: Int? = nil, message: String? = nil, details: String? = nil, retryAfter: Int? = nil)
    {
        self.status = status
        self.code = code
        self.subcode = subcode
        self.message = message
        self.details = details
        self.retryAfter = retryAfter
    }

    /// Reads an error answer; `secret` (the access token) is blotted out of every text kept.
    init(status: Int, body: [UInt8], retryAfter: Int?, hiding secret: String?) {
        self.init(status: status, retryAfter: retryAfter)
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        guard let error = object?["error"] as? [String: Any] else { return }
        code = Self.int(error["code"])
        subcode = Self.int(error["error_subcode"])
        message = (error["message"] as? String).map { Self.clean($0, secret) }
        details = ((error["error_data"] as? [String: Any])?["details"] as? String).map { Self.clean($0, secret) }
    }

    /// The provider's words on one line: "message (code N): details".
    public var description: String {
        var text = message ?? "HTTP \(status)"
        if let code { text += " (code \(code))" }
        if let details, !details.isEmpty, details != message { text += ": " + details }
        return text
    }

    /// Codes that mean "slow down": Cloud API throughput (130429), spam rate (131048), pair rate (131056), the business
    /// account's rate (80007), the app's (4) and the calls' (613).
    static let rateLimits: Set<Int> = [130429, 131048, 131056, 80007, 4, 613]
    /// Codes of a passing failure at Meta: unknown (1), service (2), something went wrong (131000), service unavailable
    /// (131016), server unavailable (133004).
    static let transient: Set<Int> = [1, 2, 131000, 131016, 133004]

    /// What the answer means for the message: refused for good, or worth another try (and when).
    public var outcome: SendOutcome {
        let code = code ?? 0
        if status == 401 || code == 190 || code == 10 || (200...299).contains(code) || code == 131005 {
            return .refused(DeliveryRefusal(.unauthorized, description))
        }
        switch code {
        case 131047: return .refused(DeliveryRefusal(.windowClosed, description))
        case 131026: return .refused(DeliveryRefusal(.blocked, description))
        case 131021, 131030: return .refused(DeliveryRefusal(.notFound, description))
        case _ where Self.rateLimits.contains(code): return .retry(after: retryDelay(code), reason: description)
        case _ where Self.transient.contains(code): return .retry(after: retryAfter.map { .seconds($0) }, reason: description)
        default: break
        }
        if status == 429 || status >= 500 {
            return .retry(after: retryAfter.map { .seconds($0) }, reason: description)
        }
        return .refused(DeliveryRefusal(.invalid, description))
    }

    /// How long to wait after a rate limit: what the answer said, else one message to a shopper every 6 s (pair rate),
    /// a second for throughput, a minute for the account's and the app's limits.
    private func retryDelay(_ code: Int) -> Duration {
        if let retryAfter, retryAfter > 0 { return .seconds(min(retryAfter, 3600)) }
        switch code {
        case 130429: return .seconds(1)
        case 131056: return .seconds(6)
        default: return .seconds(60)
        }
    }

    private static func int(_ value: Any?) -> Int? {
        (value as? Int) ?? (value as? String).flatMap { Int($0) }
    }

    private static func clean(_ text: String, _ secret: String?) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return String(line.redacting(secret).prefix(300))
    }
}

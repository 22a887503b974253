import Crypto
import Foundation

/// A shop's logged-in customer, as the shop's server vouches for them: a JWT signed with HS256 and the shop's widget
/// secret, `{"sub": "customer-42", "exp": <unix time>, "name": ..., "email": ..., "phone": ...}`. Short-lived: `exp`
/// at most 10 minutes ahead (like Intercom's and Tiledesk's identity tokens), so a token copied from a page is
/// useless soon after. Only HS256 is accepted (never `none`), and the signature is compared in constant time.
public struct SignedIdentity: Sendable, Equatable {
    public var subject: String
    public var name: String?
    public var email: String?
    public var phone: String?

    /// The longest a token may live from now (plus a little clock skew).
    public static let maximumLifetime: TimeInterval = 600
    static let skew: TimeInterval = 60

    public enum Failure: Error, Sendable, Equatable {
        case malformed, algorithm, signature, expired, tooLong, noSubject
    }

    /// Verifies `token` with `secret` at `now`.
    public static func verify(_ token: String, secret: String, now: Date) throws -> SignedIdentity {
        guard token.utf8.count <= 4096 else { throw Failure.malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = base64URL(parts[0]), let payloadData = base64URL(parts[1]),
            let signature = base64URL(parts[2])
        else { throw Failure.malformed }
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else { throw Failure.malformed }
        guard header["alg"] as? String == "HS256" else { throw Failure.algorithm }
        let key = SymmetricKey(data: Data(secret.utf8))
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) else { throw Failure.signature }
        guard let claims = try? JSONSerialization.jsonObject(with: payloadData) as? [String: Any] else { throw Failure.malformed }
        guard let exp = (claims["exp"] as? NSNumber)?.doubleValue else { throw Failure.expired }
        let nowSeconds = now.timeIntervalSince1970
        guard exp > nowSeconds - skew else { throw Failure.expired }
        guard exp <= nowSeconds + maximumLifetime + skew else { throw Failure.tooLong }
        let subject: String
        if let text = claims["sub"] as? String {
            subject = text
        } else if let number = claims["sub"] as? NSNumber {
            subject = number.stringValue
        } else {
            throw Failure.noSubject
        }
        let trimmed = subject.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else { throw Failure.noSubject }
        func text(_ key: String, _ limit: Int) -> String? {
            (claims[key] as? String).map { String($0.trimmingCharacters(in: .whitespacesAndNewlines).prefix(limit)) }.flatMap {
                $0.isEmpty ? nil : $0
            }
        }
        return SignedIdentity(subject: trimmed, name: text("name", 200), email: text("email", 320), phone: text("phone", 40))
    }

    /// A token for `claims` (the tests', and the docs' examples do the same in Python and PHP).
    public static func sign(_ claims: [String: Any], secret: String) -> String {
        let header = encode(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = encode((try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])) ?? Data())
        let mac = HMAC<SHA256>.authenticationCode(for: Data((header + "." + payload).utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return header + "." + payload + "." + encode(Data(mac))
    }

    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URL(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

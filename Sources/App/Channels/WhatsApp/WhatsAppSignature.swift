import Crypto
import Foundation

/// Meta's proof that a webhook POST came from it: `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body
/// under the app's secret.
public enum WhatsAppSignature {
    /// The header's name, as Meta sends it.
    public static let header = "X-Hub-Signature-256"

    /// Whether `header` signs `body` under `appSecret`, compared in constant time; false for a missing or malformed
    /// header or an empty secret.
    public static func isValid(header: String?, body: [UInt8], appSecret: String) -> Bool {
        guard !appSecret.isEmpty, let header else { return false }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.count == 7 + 64, trimmed.lowercased().hasPrefix("sha256="), let mac = bytes(hex: trimmed.dropFirst(7)) else {
            return false
        }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: Array(appSecret.utf8)))
    }

    /// The header's value for `body` under `appSecret`, as Meta computes it (the fake's webhooks and the tests use it).
    public static func sign(_ body: [UInt8], appSecret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(appSecret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for char in hex.utf8 {
            let nibble: UInt8
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = char - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let value = high {
                bytes.append(value << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? bytes : nil
    }
}

/// Meta's check of a webhook's address: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` is answered with
/// the raw challenge when the verify token is the connection's, else 403.
public enum WhatsAppVerification {
    /// The challenge to answer with, or nil (answer 403) when the mode is not `subscribe` or the token does not match
    /// (compared in constant time).
    public static func challenge(query: [String: String], verifyToken: String) -> String? {
        guard !verifyToken.isEmpty, query["hub.mode"] == "subscribe", let token = query["hub.verify_token"],
            let challenge = query["hub.challenge"], !challenge.isEmpty, challenge.utf8.count <= 256
        else { return nil }
        return SecretToken.constantTimeEquals(token, verifyToken) ? challenge : nil
    }
}

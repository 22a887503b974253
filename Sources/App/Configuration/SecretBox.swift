import Crypto
import Foundation

/// Encrypts the secrets Vitrina keeps for shops (a widget's identity secret, later channel tokens and model keys):
/// AES-256-GCM under a key derived from the installation's secret with HKDF-SHA256, so the database alone reveals
/// nothing. A sealed value is `<key id>.<base64 of nonce, ciphertext and tag>`: the key id (the first 8 hex digits of
/// the derived key's SHA-256) names the key beside the ciphertext, so a value sealed under another installation key
/// is refused with a sentence instead of decrypted into noise.
public struct SecretBox: Sendable {
    let key: SymmetricKey
    public let keyID: String

    public init(secret: SecretKey, purpose: String = "secrets.v1") {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: secret.key, salt: Data("vitrina-secret-box".utf8), info: Data(purpose.utf8), outputByteCount: 32)
        keyID = key.withUnsafeBytes { SHA256.hash(data: Data($0)) }.prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    /// `plain` sealed with a fresh random nonce.
    public func seal(_ plain: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: key)
        guard let combined = box.combined else { throw SecretBoxError.malformed }
        return keyID + "." + combined.base64EncodedString()
    }

    /// The plain text of a value `seal` made with this key.
    public func open(_ sealed: String) throws -> String {
        let parts = sealed.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let combined = Data(base64Encoded: String(parts[1])) else { throw SecretBoxError.malformed }
        guard parts[0] == keyID else { throw SecretBoxError.otherKey(String(parts[0])) }
        let box = try AES.GCM.SealedBox(combined: combined)
        return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    }

    /// A secret shown as its last four characters: `••••••••3f9a`.
    public static func masked(_ secret: String) -> String {
        String(repeating: "•", count: 8) + String(secret.suffix(4))
    }
}

/// A sealed value that cannot be opened.
public enum SecretBoxError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed
    /// Sealed under another installation key (the secret key changed without `vitrina secrets rotate`).
    case otherKey(String)

    public var description: String {
        switch self {
        case .malformed: "A stored secret is damaged."
        case .otherKey(let id): "A stored secret was sealed under key \(id), not this installation's key."
        }
    }
}

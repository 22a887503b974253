import Crypto
import Foundation

/// Encrypts the secrets Vitrina keeps for shops (a widget's identity secret, model keys, later channel tokens):
/// AES-256-GCM under a key derived from the installation's secret with HKDF-SHA256, so the database alone reveals
/// nothing. A sealed value is `<key id>.<base64 of nonce, ciphertext and tag>`: the key id (the first 8 hex digits of
/// the derived key's SHA-256) names the key beside the ciphertext, so a value sealed under a key the installation does
/// not hold is refused with a sentence instead of decrypted into noise.
///
/// The box is a key ring: it seals under the current key only and opens values sealed under it or under any older key
/// the installation still lists (`VITRINA_OLD_SECRET_KEYS`, `<data>/secret.key.<id>.old`), so the app keeps working
/// while `vitrina secrets rotate` re-seals everything under the current key.
public struct SecretBox: Sendable {
    let key: SymmetricKey
    /// The current key's id: what `seal` writes.
    public let keyID: String
    /// Older keys by id: what `open` also accepts.
    let older: [String: SymmetricKey]

    public init(secret: SecretKey, older olderSecrets: [SecretKey] = [], purpose: String = "secrets.v1") {
        (key, keyID) = Self.derive(secret, purpose: purpose)
        var older: [String: SymmetricKey] = [:]
        for secret in olderSecrets {
            let (key, id) = Self.derive(secret, purpose: purpose)
            if id != keyID { older[id] = key }
        }
        self.older = older
    }

    /// The ids of the older keys the box still opens, sorted.
    public var olderKeyIDs: [String] { older.keys.sorted() }

    /// `plain` sealed under the current key with a fresh random nonce.
    public func seal(_ plain: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: key)
        guard let combined = box.combined else { throw SecretBoxError.malformed }
        return keyID + "." + combined.base64EncodedString()
    }

    /// The plain text of a value sealed under the current key or an older one the ring holds.
    public func open(_ sealed: String) throws -> String {
        let parts = sealed.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let combined = Data(base64Encoded: String(parts[1])) else { throw SecretBoxError.malformed }
        let id = String(parts[0])
        guard let key = id == keyID ? key : older[id] else { throw SecretBoxError.otherKey(id) }
        do {
            return String(decoding: try AES.GCM.open(try AES.GCM.SealedBox(combined: combined), using: key), as: UTF8.self)
        } catch {
            throw SecretBoxError.malformed
        }
    }

    /// The value sealed again under the current key, or nil when it is sealed under it already (and opens).
    public func reseal(_ sealed: String) throws -> String? {
        let plain = try open(sealed)
        return Self.keyID(of: sealed) == keyID ? nil : try seal(plain)
    }

    /// Whether a key id is the current key's, an older one the ring holds, or one it does not know.
    public func standing(of id: String) -> KeyStanding {
        id == keyID ? .current : (older[id] != nil ? .older : .unknown)
    }

    /// The key id a sealed value names (the text before the first dot), without opening it.
    public static func keyID(of sealed: String) -> String {
        String(sealed.prefix { $0 != "." })
    }

    /// A secret shown as its last four characters: `••••••••3f9a`.
    public static func masked(_ secret: String) -> String {
        String(repeating: "•", count: 8) + String(secret.suffix(4))
    }

    static func derive(_ secret: SecretKey, purpose: String) -> (SymmetricKey, String) {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: secret.key, salt: Data("vitrina-secret-box".utf8), info: Data(purpose.utf8), outputByteCount: 32)
        let id = key.withUnsafeBytes { SHA256.hash(data: Data($0)) }.prefix(4).map { String(format: "%02x", $0) }.joined()
        return (key, id)
    }

    /// Where a key stands in the ring.
    public enum KeyStanding: String, Sendable {
        case current, older, unknown
    }
}

/// A sealed value that cannot be opened.
public enum SecretBoxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a sealed value, or its ciphertext does not authenticate under the key it names.
    case malformed
    /// Sealed under a key the installation does not hold (the secret key changed without the old one kept in
    /// VITRINA_OLD_SECRET_KEYS, or `vitrina secrets rotate` retired it too early).
    case otherKey(String)

    public var description: String {
        switch self {
        case .malformed: "A stored secret is damaged."
        case .otherKey(let id): "A stored secret was sealed under key \(id), which this installation does not hold."
        }
    }
}

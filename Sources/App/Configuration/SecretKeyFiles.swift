import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The installation's key file in the data folder (`secret.key`, used when VITRINA_SECRET_KEY is unset) and the old
/// key files a rotation keeps beside it (`secret.key.<key id>.old`) until every value is sealed under the new key.
public struct SecretKeyFiles: Sendable {
    public let dataDirectory: String

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    /// `<data>/secret.key`.
    public var keyPath: String { path("secret.key") }

    /// The old key files, sorted.
    public func oldKeyPaths() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? []
        return names.filter { $0.hasPrefix("secret.key.") && $0.hasSuffix(".old") }.sorted().map(path)
    }

    /// The keys in the old key files.
    public func oldKeys() throws -> [SecretKey] {
        try oldKeyPaths().map { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let key = try? SecretKey.parse(text) else {
                throw ConfigurationError.message("\(path) does not hold a key (32 bytes as 64 hex digits or base64).")
            }
            return key
        }
    }

    /// Puts a fresh key in `secret.key`, keeping the one there as `secret.key.<its id>.old` first (so a crash at any
    /// point leaves both keys on disk). Returns the old and the new key ids.
    public func replace() throws -> (old: String, new: String) {
        guard let text = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
            throw ConfigurationError.message("There is no key file at \(keyPath) to replace.")
        }
        let current = try SecretKey.parse(text)
        let oldID = SecretBox(secret: current).keyID
        try write(hex(current), to: path("secret.key.\(oldID).old"))
        let fresh = SecretKey(key: SymmetricKey(size: .bits256))
        try write(hex(fresh), to: keyPath)
        return (oldID, SecretBox(secret: fresh).keyID)
    }

    /// Deletes the old key files; returns their names.
    @discardableResult
    public func retire() throws -> [String] {
        try oldKeyPaths().map { path in
            try FileManager.default.removeItem(atPath: path)
            return URL(fileURLWithPath: path).lastPathComponent
        }
    }

    func path(_ name: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent(name).path
    }

    func hex(_ secret: SecretKey) -> String {
        secret.key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
    }

    /// Writes a key file (mode 0600) whole or not at all: a temporary file, then a rename over the target.
    func write(_ hex: String, to target: String) throws {
        let temporary = target + ".tmp"
        try? FileManager.default.removeItem(atPath: temporary)
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data((hex + "\n").utf8), attributes: [.posixPermissions: 0o600]),
            rename(temporary, target) == 0
        else { throw ConfigurationError.message("Cannot write the key file \(target).") }
    }
}

extension SecretKey {
    /// The older keys the installation still opens: VITRINA_OLD_SECRET_KEYS's and the data folder's old key files.
    public static func older(configured: [String], dataDirectory: String) throws -> [SecretKey] {
        let listed = try configured.enumerated().map { index, text in
            do { return try parse(text) } catch {
                throw ConfigurationError.message(
                    "VITRINA_OLD_SECRET_KEYS: key \(index + 1) is not 32 bytes written as 64 hex digits or base64.")
            }
        }
        return listed + (try SecretKeyFiles(dataDirectory: dataDirectory).oldKeys())
    }
}

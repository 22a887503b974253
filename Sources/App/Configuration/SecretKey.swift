import Crypto
import Foundation

/// The installation's 32-byte secret, from `VITRINA_SECRET_KEY` or generated once into the data folder.
public struct SecretKey: Sendable {
    public let key: SymmetricKey

    /// Parses a key given as 64 hex digits or as base64 of 32 bytes.
    public static func parse(_ text: String) throws -> SecretKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, let bytes = hexBytes(trimmed) {
            return SecretKey(key: SymmetricKey(data: bytes))
        }
        if let data = Data(base64Encoded: trimmed), data.count == 32 {
            return SecretKey(key: SymmetricKey(data: data))
        }
        throw ConfigurationError.message(
            "VITRINA_SECRET_KEY must be 32 bytes written as 64 hex digits or base64 (try: openssl rand -hex 32)."
        )
    }

    /// Uses the configured key, else reads or creates `<data>/secret.key` (mode 0600).
    public static func resolve(configured: String?, dataDirectory: String) throws -> SecretKey {
        if let configured { return try parse(configured) }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("secret.key").path
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            return try parse(existing)
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let hex = SymmetricKey(size: .bits256).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        guard FileManager.default.createFile(atPath: path, contents: Data((hex + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw ConfigurationError.message("Cannot write the development secret key to \(path).") }
        return try parse(hex)
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

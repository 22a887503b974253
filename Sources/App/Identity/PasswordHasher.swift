import CArgon2
import Foundation

/// argon2id through the system's libargon2, in PHC string form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
/// Sign-in arrives with the identity issue; the hasher is here so the build links libargon2 from day one.
public struct PasswordHasher: Sendable {
    /// Memory in KiB, iterations and lanes; the defaults are OWASP's minimum (19 MiB, 2, 1).
    public var memoryKiB: UInt32 = 19 * 1024
    public var iterations: UInt32 = 2
    public var parallelism: UInt32 = 1

    public init() {}

    public func hash(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = generator.next() }
        let length = argon2_encodedlen(iterations, memoryKiB, parallelism, UInt32(salt.count), 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        let bytes = Array(password.utf8)
        let result = argon2id_hash_encoded(
            iterations, memoryKiB, parallelism, bytes, bytes.count, salt, salt.count, 32, &encoded, length)
        guard result == ARGON2_OK.rawValue else { throw PasswordHasherError.failed("argon2 error \(result)") }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func verify(_ password: String, against encoded: String) -> Bool {
        let bytes = Array(password.utf8)
        return argon2id_verify(encoded, bytes, bytes.count) == ARGON2_OK.rawValue
    }
}

public enum PasswordHasherError: Error {
    case failed(String)
}

import CArgon2
import Foundation
import NIOPosix

/// argon2id through the system's libargon2, in PHC string form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
/// The async methods run on NIO's blocking thread pool: a hash takes tens of milliseconds of CPU and must not hold
/// an event loop or a cooperative thread.
public struct PasswordHasher: Sendable, Equatable {
    /// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane. Lower settings are refused.
    public static let minimumMemoryKiB: UInt32 = 19 * 1024
    public static let minimumIterations: UInt32 = 2

    public var memoryKiB: UInt32
    public var iterations: UInt32
    public var parallelism: UInt32

    public init(memoryKiB: UInt32 = minimumMemoryKiB, iterations: UInt32 = minimumIterations, parallelism: UInt32 = 1) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

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
        guard encoded.hasPrefix("$argon2id$") else { return false }
        let bytes = Array(password.utf8)
        return argon2id_verify(encoded, bytes, bytes.count) == ARGON2_OK.rawValue
    }

    /// Hashes off the event loops.
    public func hashOffLoop(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { try hash(password) }
    }

    /// Verifies off the event loops. With no stored hash (unknown user) it still spends the time of one verification,
    /// so a response's timing does not tell whether an account exists.
    public func verifyOffLoop(_ password: String, against encoded: String?) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive {
            guard let encoded else {
                _ = verify(password, against: dummyHash)
                return false
            }
            return verify(password, against: encoded)
        }
    }

    /// Whether a stored hash was made with weaker settings than these (it is replaced at the next sign-in).
    public func needsRehash(_ encoded: String) -> Bool {
        guard let parameters = Self.parameters(of: encoded) else { return true }
        return parameters.m < memoryKiB || parameters.t < iterations || parameters.p < parallelism
    }

    /// The `m`, `t` and `p` of a PHC string.
    public static func parameters(of encoded: String) -> (m: UInt32, t: UInt32, p: UInt32)? {
        let fields = encoded.split(separator: "$")
        guard fields.count == 5, fields[0] == "argon2id", fields[1] == "v=19" else { return nil }
        var values: [Substring: UInt32] = [:]
        for pair in fields[2].split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let value = UInt32(kv[1]) else { return nil }
            values[kv[0]] = value
        }
        guard let m = values["m"], let t = values["t"], let p = values["p"] else { return nil }
        return (m, t, p)
    }

    /// A fixed hash at these settings, verified against when there is no user, to keep timing even.
    private var dummyHash: String {
        "$argon2id$v=19$m=\(memoryKiB),t=\(iterations),p=\(parallelism)$c29tZXNhbHRzb21lc2FsdA$"
            + "7f6VtW6uZqMGlIPDVG4hLzS3U0UoPhMf7R0Wj3sLnF0"
    }
}

public enum PasswordHasherError: Error {
    case failed(String)
}

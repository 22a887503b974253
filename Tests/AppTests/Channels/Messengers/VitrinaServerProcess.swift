import AsyncHTTPClient
import Foundation
import NIOCore

@testable import App

#if canImport(Glibc)
import Glibc
#endif

/// The built `vitrina` binary running as its own process on a test's database (`serve` or `work`), for the tests that
/// kill it with SIGKILL or run two of it side by side. Started with the project's `ProcessRunner` (never
/// Foundation.Process); its output goes to a file in `folder`, shown when it does not come up.
final class VitrinaServerProcess: @unchecked Sendable {
    let arguments: [String]
    let port: Int
    let environment: [String: String]
    let logPath: String
    private let lock = NSLock()
    private var pidValue: pid_t = 0
    /// Every process id this one has had (one per start), in order.
    private var history: [pid_t] = []

    var pid: pid_t { lock.withLock { pidValue } }
    var pids: [pid_t] { lock.withLock { history } }

    /// `command` is `serve` (on `port`, with `extra` flags) or `work`; `variables` go over the test's defaults.
    init(_ command: String, extra: [String] = [], port: Int, database: DatabaseURL, folder: TemporaryFolder, variables: [String: String]) {
        self.port = port
        arguments =
            [CLI.binary, command] + (command == "serve" ? ["--port", "\(port)", "--no-migrate"] : []) + extra
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = database.urlString
        environment["VITRINA_BASE_DOMAIN"] = "vitrina.test"
        environment["VITRINA_RESOURCES_DIR"] = TestDatabase.packageRoot
        environment["VITRINA_DATA_DIR"] = folder.path + "/data-\(command)-\(port)"
        environment["LOG_LEVEL"] = "warning"
        environment["VITRINA_SECRET_KEY"] = String(repeating: "5e", count: 32)
        environment["VITRINA_EMBEDDINGS_URL"] = "off"
        environment["VITRINA_DB_POOL_SIZE"] = "8"
        self.environment = environment.merging(variables) { $1 }
        logPath = folder.path + "/\(command)-\(port).log"
    }

    /// Starts the process (again, after a kill) and, for `serve`, waits until `/readyz` answers 200.
    func start(http: HTTPClient) async throws {
        // A restart after a kill runs the binary the test started with, even if someone rebuilt it meanwhile.
        if pids.isEmpty { try CLI.checkFresh() }
        let pid = try ProcessRunner.spawn(arguments, environment: environment, outputPath: logPath)
        lock.withLock {
            pidValue = pid
            history.append(pid)
        }
        guard arguments.contains("serve") else { return }
        for _ in 0..<300 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz")
            request.headers.add(name: "Host", value: "vitrina.test")
            if let response = try? await http.execute(request, timeout: .seconds(2)) {
                _ = try? await response.body.collect(upTo: 1 << 16)
                if response.status.code == 200 { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw VitrinaServerProcessError(description: "`\(arguments.dropFirst().joined(separator: " "))` did not become ready:\n" + log)
    }

    /// SIGKILL: no shutdown, no flushing, leases and open transactions left as they were.
    func kill9() async {
        await stop(signal: SIGKILL)
    }

    /// SIGTERM (a graceful stop), or SIGKILL after 10 s.
    func terminate() async {
        await stop(signal: SIGTERM)
    }

    private func stop(signal: Int32) async {
        let pid = lock.withLock { () -> pid_t in
            defer { pidValue = 0 }
            return pidValue
        }
        guard pid > 0 else { return }
        kill(pid, signal)
        // Reaped without blocking one of the cooperative pool's few threads.
        var status: Int32 = 0
        for attempt in 0..<1000 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            if attempt == 200 { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Runs `body` and stops the processes after it, whether it returned or threw (a failed start or expectation must
    /// not leave a server running after the test).
    static func stopping<T>(_ processes: [VitrinaServerProcess], _ body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            for process in processes { await process.terminate() }
            return value
        } catch {
            for process in processes { await process.terminate() }
            throw error
        }
    }

    /// The last lines the process printed.
    var log: String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(30).joined(separator: "\n")
    }

    /// A loopback port nobody listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw VitrinaServerProcessError(description: "no socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw VitrinaServerProcessError(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct VitrinaServerProcessError: Error, CustomStringConvertible {
    let description: String
}

/// Telegram's side of a webhook call: POSTs an update to a server process as the Bot API does (the shop's host, the
/// secret token) and returns the status, or nil when the process did not answer (killed, not up yet).
struct TelegramWebhookSender: Sendable {
    let http: HTTPClient
    let path: String
    let host: String
    let secret: String

    func post(_ update: String, port: Int) async -> Int? {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)" + path)
        request.method = .POST
        request.headers.add(name: "Host", value: host)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Telegram-Bot-Api-Secret-Token", value: secret)
        request.body = .bytes(ByteBuffer(string: update))
        guard let response = try? await http.execute(request, timeout: .seconds(10)) else { return nil }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return Int(response.status.code)
    }

    /// Sends until the server answers 200, as Telegram redelivers; returns how many tries failed first.
    func deliver(_ update: String, port: @Sendable () -> Int) async throws -> Int {
        var failures = 0
        while await post(update, port: port()) != 200 {
            failures += 1
            guard failures < 400 else { throw VitrinaServerProcessError(description: "an update was never accepted") }
            try await Task.sleep(for: .milliseconds(50))
        }
        return failures
    }
}

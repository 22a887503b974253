import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The installation's database: a pooled client plus what is needed to open dedicated connections.
public struct Database: Sendable {
    public let client: PostgresClient
    public let url: DatabaseURL
    public let logger: Logger

    /// `quietPool` keeps the pool's own warnings (e.g. a lease asked for a moment before it starts) out of CLI output.
    public init(url: DatabaseURL, poolSize: Int, logger: Logger, quietPool: Bool = false) throws {
        self.url = url
        self.logger = logger
        var poolLogger = logger
        if quietPool { poolLogger.logLevel = max(logger.logLevel, .error) }
        self.client = PostgresClient(configuration: try url.clientConfiguration(poolSize: poolSize), backgroundLogger: poolLogger)
    }

    /// Connects once, so a wrong URL or a stopped server is reported at once instead of retried forever.
    public func checkReachable() async throws {
        do {
            let connection = try await connect()
            try await connection.close()
        } catch {
            throw ConfigurationError.message("Cannot connect to the database at \(url.redacted): \(databaseMessage(error))")
        }
    }

    /// Opens a dedicated connection outside the pool (LISTEN, advisory locks); the caller closes it.
    public func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: try url.connectionConfiguration(), id: Int.random(in: 1...Int(Int32.max)), logger: logger)
    }
}

extension PostgresClient {
    /// Runs a platform-level transaction (schema-qualified SQL only: the search path is empty).
    public func platformTransaction<T: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}

/// The database's own error text, without the driver's wrapping (for messages shown to operators).
public func databaseMessage(_ error: any Error) -> String {
    if let psql = error as? PSQLError {
        if let message = psql.serverInfo?[.message] {
            let detail = psql.serverInfo?[.detail].map { " (\($0))" } ?? ""
            return message + detail
        }
        return "\(psql.code)"
    }
    return "\(error)"
}

/// The SQLSTATE code of a database error, if it came from the server.
public func databaseErrorCode(_ error: any Error) -> String? {
    (error as? PSQLError)?.serverInfo?[.sqlState]
}

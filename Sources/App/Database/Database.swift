import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The installation's database: the connection pool (a `Service` that the app's service group runs), dedicated
/// connections for `LISTEN`, and the pool's figures for `/metrics`.
///
/// Platform SQL goes through `query`, `execute` and `transaction`; tenant SQL goes through `TenantDatabase`, the door.
public struct Database: Sendable {
    public let client: PostgresClient
    public let url: DatabaseURL
    public let logger: Logger
    let poolSize: Int
    let metrics: DatabaseMetrics

    /// `quietPool` keeps the pool's own warnings (e.g. a lease asked for a moment before it starts) out of CLI output.
    public init(url: DatabaseURL, poolSize: Int, logger: Logger, quietPool: Bool = false) throws {
        self.url = url
        self.logger = logger
        self.poolSize = poolSize
        var poolLogger = logger
        if quietPool { poolLogger.logLevel = max(logger.logLevel, .error) }
        self.client = PostgresClient(configuration: try url.clientConfiguration(poolSize: poolSize), backgroundLogger: poolLogger)
        self.metrics = DatabaseMetrics(poolSize: poolSize)
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

    /// Leases a pooled connection for `body` (counted in the pool's figures).
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let asked = DispatchTime.now().uptimeNanoseconds
        return try await client.withConnection { connection in
            metrics.leased(waited: DispatchTime.now().uptimeNanoseconds - asked)
            defer { metrics.released() }
            return try await body(connection)
        }
    }

    /// Runs a platform-level transaction (schema-qualified SQL only: the search path is empty). Never hold it open
    /// across a network call to anything but the database.
    public func transaction<T: Sendable>(logger: Logger? = nil, _ body: (Transaction) async throws -> T) async throws -> T {
        let logger = logger ?? self.logger
        return try await withConnection { connection in
            try await Transaction.run(on: connection, logger: logger, body)
        }
    }
}

extension Database: QueryRunner {
    /// One statement on a pooled connection; its rows, read in full.
    @discardableResult
    public func rows(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        try await withConnection { connection in
            try await connection.query(query, logger: logger, file: file, line: line).collect()
        }
    }
}

/// Something that runs statements: the pool (each statement on any connection), a platform transaction, or a tenant's
/// connection inside the door. Stores take one, so the same method works alone or inside a caller's transaction.
public protocol QueryRunner: Sendable {
    /// Runs one statement and returns its rows (read in full: the statements here return small results).
    @discardableResult
    func rows(_ query: PostgresQuery, file: String, line: Int) async throws -> [PostgresRow]
}

extension QueryRunner {
    @discardableResult
    public func rows(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        try await rows(query, file: file, line: line)
    }

    /// Runs one statement for its effect.
    public func execute(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws {
        _ = try await rows(query, file: file, line: line)
    }

    /// The rows as values of a type that knows its columns.
    public func all<T: RowDecodable>(_ type: T.Type, _ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> [T]
    {
        try await rows(query, file: file, line: line).map(T.init(row:))
    }

    /// The first row as a value, or `nil` when there is none.
    public func first<T: RowDecodable>(_ type: T.Type, _ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> T?
    {
        try await rows(query, file: file, line: line).first.map(T.init(row:))
    }

    /// The first row's only column, or `nil` when there is no row.
    public func value<V: PostgresDecodable>(
        _ type: V.Type, _ query: PostgresQuery, file: String = #fileID, line: Int = #line
    ) async throws -> V? {
        try await rows(query, file: file, line: line).first?.decode(V.self)
    }

    /// Every row's only column.
    public func values<V: PostgresDecodable>(
        _ type: V.Type, _ query: PostgresQuery, file: String = #fileID, line: Int = #line
    ) async throws -> [V] {
        try await rows(query, file: file, line: line).map { try $0.decode(V.self) }
    }

    /// The first row's columns (a tuple), or `nil` when there is no row.
    @_disfavoredOverload
    public func value<each V: PostgresDecodable>(
        _ type: (repeat each V).Type, _ query: PostgresQuery, file: String = #fileID, line: Int = #line
    ) async throws -> (repeat each V)? {
        guard let row = try await rows(query, file: file, line: line).first else { return nil }
        return try row.decode((repeat each V).self)
    }

    /// Every row's columns (tuples).
    @_disfavoredOverload
    public func values<each V: PostgresDecodable>(
        _ type: (repeat each V).Type, _ query: PostgresQuery, file: String = #fileID, line: Int = #line
    ) async throws -> [(repeat each V)] {
        try await rows(query, file: file, line: line).map { try $0.decode((repeat each V).self) }
    }
}

/// A type built from a result row. Its initialiser is the one place that row's columns are decoded.
public protocol RowDecodable: Sendable {
    init(row: PostgresRow) throws
}

/// A platform transaction: one connection between `BEGIN` and `COMMIT` (or `ROLLBACK` when the body throws).
public struct Transaction: QueryRunner {
    public let connection: PostgresConnection
    public let logger: Logger

    public func rows(_ query: PostgresQuery, file: String, line: Int) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger, file: file, line: line).collect()
    }

    /// Opens a transaction on a connection the caller holds.
    public static func run<T>(
        on connection: PostgresConnection, logger: Logger, begin: String = "BEGIN", _ body: (Transaction) async throws -> T
    ) async throws -> T {
        try await connection.query(PostgresQuery(unsafeSQL: begin), logger: logger)
        do {
            let value = try await body(Transaction(connection: connection, logger: logger))
            try await connection.query("COMMIT", logger: logger)
            return value
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}

/// The pool's figures: its size, connections leased now, how long leases waited.
final class DatabaseMetrics: Sendable {
    let inUse = Gauge(label: "vitrina_db_connections_leased")
    let size = Gauge(label: "vitrina_db_pool_size")
    let waits = Metrics.Timer(label: "vitrina_db_lease_wait_seconds", preferredDisplayUnit: .seconds)
    private let counter = Atomic<Int>(0)

    init(poolSize: Int) {
        size.record(poolSize)
    }

    func leased(waited nanoseconds: UInt64) {
        waits.recordNanoseconds(Int64(clamping: nanoseconds))
        inUse.record(counter.add(1, ordering: .relaxed).newValue)
    }

    func released() {
        inUse.record(counter.subtract(1, ordering: .relaxed).newValue)
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

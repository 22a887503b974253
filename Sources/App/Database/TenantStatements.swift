import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// A read against one tenant's tables, written with `{schema}` where the tenant's schema goes
/// (`SELECT … FROM {schema}.help_articles`), its values bound as `$1`, `$2`, … and its rows decoded by `decode`.
///
/// The door replaces `{schema}` with the tenant's validated schema name, so the statement is schema-qualified and
/// runs with an empty search path. That is what lets PostgreSQL keep its plan: a cached plan is thrown away whenever
/// the search path differs from the one it was planned under, which a door that set the search path per tenant did
/// on every request.
public struct TenantStatement<Row: Sendable>: Sendable {
    /// A stable name for the statement (its cache key, with the schema).
    public let name: String
    public let sql: String
    public let binds: [PostgresData]
    public let decode: @Sendable (PreparedRow) throws -> Row

    public init(name: String, sql: String, binds: [PostgresData] = [], decode: @escaping @Sendable (PreparedRow) throws -> Row) {
        self.name = name
        self.sql = sql
        self.binds = binds
        self.decode = decode
    }

    /// The SQL for one tenant: `{schema}` replaced with its validated name.
    func sql(for schema: SchemaName) -> String {
        precondition(SchemaName.isValid(schema.value))
        return sql.replacingOccurrences(of: "{schema}", with: schema.value)
    }
}

/// A row of a prepared statement. PostgresNIO's `prepare(query:)` keeps the row description as the server describes
/// the statement (every column in text format), while the rows arrive in binary, as PostgresNIO's Bind asks for them
/// (its newer prepared-statement path corrects the description; this one does not). The cells are read here in the
/// format their bytes really have.
public struct PreparedRow: Sendable {
    let cells: [PostgresCell]

    init(_ row: PostgresRow) {
        cells = row.map { cell in
            var cell = cell
            cell.format = .binary
            return cell
        }
    }

    /// The row's columns, in order.
    public func decode<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws -> (repeat each Column) {
        var index = 0
        func next<C: PostgresDecodable>(_ type: C.Type) throws -> C {
            defer { index += 1 }
            guard index < cells.count else { throw PostgresDecodingError.Code.missingData }
            return try cells[index].decode(C.self)
        }
        return (repeat try next((each Column).self))
    }
}

/// Statements prepared per pooled connection and tenant, at most `capacity` per connection (least recently used go
/// first, deallocated on the server). A statement is prepared on a connection the first time it runs there; after that
/// each run is one Bind/Execute round trip with no parsing or planning.
final class TenantStatements: Sendable {
    let capacity: Int
    private let connections = Mutex<[ObjectIdentifier: Prepared]>([:])

    /// One connection's statements, each with the tick of its last use (the smallest goes first when full).
    struct Prepared {
        var statements: [String: (query: PreparedQuery, used: UInt64)] = [:]
        var tick: UInt64 = 0

        /// The statement under `key`, marked as just used.
        mutating func use(_ key: String) -> PreparedQuery? {
            guard let found = statements[key] else { return nil }
            tick += 1
            statements[key] = (found.query, tick)
            return found.query
        }

        /// Adds a statement; returns the least recently used one when that makes more than `capacity`.
        mutating func add(_ query: PreparedQuery, as key: String, capacity: Int) -> PreparedQuery? {
            tick += 1
            statements[key] = (query, tick)
            // The scan runs once per statement prepared beyond capacity (rare); look-ups stay O(1).
            guard statements.count > capacity, let oldest = statements.min(by: { $0.value.used < $1.value.used })?.key else { return nil }
            return statements.removeValue(forKey: oldest)?.query
        }
    }

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// How many statements `connection` holds (tests).
    func count(on connection: PostgresConnection) -> Int {
        connections.withLock { $0[ObjectIdentifier(connection)]?.statements.count ?? 0 }
    }

    func execute<Row>(
        _ statement: TenantStatement<Row>, schema: SchemaName, on connection: PostgresConnection, logger: Logger
    ) async throws -> [PostgresRow] {
        let key = statement.name + "@" + schema.value
        if let prepared = lookup(key, on: connection) {
            do {
                return try await prepared.execute(statement.binds).get()
            } catch  where Self.needsPreparing(error) {
                // Deallocated behind our back (DISCARD ALL) or invalidated by a change of the table's shape.
                forget(key, on: connection)
            }
        }
        let prepared = try await connection.prepare(query: statement.sql(for: schema)).get()
        if let evicted = remember(prepared, as: key, on: connection) {
            _ = try? await evicted.deallocate().get()
        }
        return try await prepared.execute(statement.binds).get()
    }

    private func lookup(_ key: String, on connection: PostgresConnection) -> PreparedQuery? {
        // Mutated in place: a copy of the entry would copy its whole table.
        connections.withLock { $0[ObjectIdentifier(connection)]?.use(key) }
    }

    /// Records a new statement; returns the one it pushed out, if the connection was full.
    private func remember(_ prepared: PreparedQuery, as key: String, on connection: PostgresConnection) -> PreparedQuery? {
        let id = ObjectIdentifier(connection)
        let (isNew, evicted) = connections.withLock { connections -> (Bool, PreparedQuery?) in
            let isNew = connections[id] == nil
            let evicted = connections[id, default: Prepared()].add(prepared, as: key, capacity: capacity)
            return (isNew, evicted)
        }
        if isNew {
            // A closed connection's statements are gone with it; so is our record of them.
            connection.closeFuture.whenComplete { [weak self] _ in
                self?.connections.withLock { _ = $0.removeValue(forKey: id) }
            }
        }
        return evicted
    }

    private func forget(_ key: String, on connection: PostgresConnection) {
        connections.withLock { connections in
            let id = ObjectIdentifier(connection)
            _ = connections[id]?.statements.removeValue(forKey: key)
        }
    }

    /// 26000: the prepared statement does not exist; 0A000: a cached plan's result type changed.
    static func needsPreparing(_ error: any Error) -> Bool {
        let code: String?
        if let postgres = error as? PostgresError, case .server(let message) = postgres {
            code = message.fields[.sqlState]
        } else {
            code = databaseErrorCode(error)
        }
        return code == "26000" || code == "0A000"
    }
}

import Foundation
import PostgresNIO

/// A column that holds values sealed with `SecretBox`: what `vitrina secrets rotate` re-seals and `vitrina secrets
/// status` counts. A migration that adds a sealed column (its comment says "(SecretBox)") adds a line to `all`; a test
/// holds the two together.
public struct SealedPlace: Sendable, Hashable, CustomStringConvertible {
    /// Where the table is: the platform schema, or every tenant's schema (reached through the door).
    public enum Scope: String, Sendable {
        case platform, tenant
    }

    public let scope: Scope
    /// Schema-qualified for the platform (`platform.partners`), bare in a tenant's schema (`bots`).
    public let table: String
    public let column: String
    /// The SQL expression that names a row in reports (text): its key, never its secret.
    let rowKey: String

    /// Every sealed column.
    public static let all: [SealedPlace] = [
        SealedPlace(scope: .platform, table: "platform.partners", column: "llm_key", rowKey: "slug"),
        SealedPlace(scope: .tenant, table: "bots", column: "llm_key", rowKey: "id::text"),
        SealedPlace(scope: .tenant, table: "inbox_settings", column: "identity_secret", rowKey: "id::text"),
        SealedPlace(scope: .tenant, table: "channel_connections", column: "secrets", rowKey: "id::text"),
    ]

    public static var platform: [SealedPlace] { all.filter { $0.scope == .platform } }
    public static var tenant: [SealedPlace] { all.filter { $0.scope == .tenant } }

    /// `platform.partners.llm_key`, `bots.llm_key`.
    public var description: String { table + "." + column }

    /// Each sealed value with its row's key; `lock` takes the rows for the rest of the transaction.
    func values(on runner: some QueryRunner, lock: Bool) async throws -> [(row: String, sealed: String)] {
        try await runner.values(
            (String, String).self,
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(rowKey), \(column) FROM \(table) WHERE \(column) IS NOT NULL ORDER BY 1\(lock ? " FOR UPDATE" : "")
                    """)
        ).map { (row: $0.0, sealed: $0.1) }
    }

    /// Replaces one row's sealed value, only if it still holds the one that was read.
    func replace(row: String, old: String, new: String, on runner: some QueryRunner) async throws {
        var bindings = PostgresBindings()
        bindings.append(new)
        bindings.append(row)
        bindings.append(old)
        try await runner.execute(
            PostgresQuery(
                unsafeSQL: "UPDATE \(table) SET \(column) = $1 WHERE \(rowKey) = $2 AND \(column) = $3", binds: bindings))
    }

    /// How many values name each key id.
    func countByKey(on runner: some QueryRunner) async throws -> [(keyID: String, count: Int)] {
        try await runner.values(
            (String, Int).self,
            PostgresQuery(
                unsafeSQL: """
                    SELECT split_part(\(column), '.', 1), count(*)::bigint FROM \(table) WHERE \(column) IS NOT NULL GROUP BY 1 ORDER BY 1
                    """)
        ).map { (keyID: $0.0, count: $0.1) }
    }
}

import Foundation
import Logging
import PostgresNIO

/// Writes and reads tenant exports: JSON Lines, documented in docs/EXPORT.md.
///
/// Line 1 is the header (`format`, `version`, the tenant's directory entry, its schema version); then one line per
/// row, `{"table": "...", "row": {...}}`, tables in foreign-key order; the last line is
/// `{"end": true, "rows": {"table": count, ...}}` so a truncated file is detected.
public struct TenantExporter: Sendable {
    public static let format = "vitrina.tenant-export"
    public static let version = 1

    let client: PostgresClient
    let provisioner: TenantProvisioner
    let logger: Logger

    public init(client: PostgresClient, provisioner: TenantProvisioner, logger: Logger) {
        self.client = client
        self.provisioner = provisioner
        self.logger = logger
    }

    /// Exports a tenant to `path` from one consistent snapshot; returns row counts per table.
    @discardableResult
    public func export(slug: String, to path: String, progress: @Sendable (String, Int) -> Void = { _, _ in }) async throws -> [String: Int]
    {
        guard FileManager.default.createFile(atPath: path + ".partial", contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path + ".partial")
        else {
            throw TenancyError.invalidExport("cannot write \(path)")
        }
        defer { try? handle.close() }
        let counts: [String: Int] = try await client.withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let (scope, _) = try await provisioner.find(slug, on: connection)
                let header = try await headerLine(scope: scope, on: connection)
                try handle.write(contentsOf: Data((header + "\n").utf8))
                var counts: [String: Int] = [:]
                for table in try await Self.tables(of: scope.schema, on: connection, logger: logger) {
                    let generated = try await Self.generatedColumns(table, schema: scope.schema, on: connection, logger: logger)
                    let sql =
                        "SELECT json_build_object('table', \(Self.literal(table)), 'row', to_jsonb(r) - \(Self.textArray(generated)))::text FROM \(scope.schema.value).\(Self.identifier(table)) r"
                    let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                    var count = 0
                    var buffer = Data()
                    for try await line in rows.decode(String.self) {
                        buffer.append(contentsOf: line.utf8)
                        buffer.append(0x0A)
                        count += 1
                        if buffer.count > 1 << 20 {
                            try handle.write(contentsOf: buffer)
                            buffer.removeAll(keepingCapacity: true)
                        }
                    }
                    try handle.write(contentsOf: buffer)
                    counts[table] = count
                    progress(table, count)
                }
                try await connection.query("COMMIT", logger: logger)
                return counts
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
        let end = try JSONSerialization.data(withJSONObject: ["end": true, "rows": counts], options: [.sortedKeys])
        try handle.write(contentsOf: end + Data("\n".utf8))
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
        return counts
    }

    private func headerLine(scope: TenantScope, on connection: PostgresConnection) async throws -> String {
        let rows = try await connection.query(
            """
            SELECT json_build_object(
                'format', \(Self.format), 'version', \(Self.version), 'exported_at', now(),
                'schema_version', t.schema_version,
                'tenant', json_build_object('slug', t.slug, 'name', t.name, 'status', t.status, 'partner', p.slug,
                    'branding', t.branding,
                    'domains', COALESCE((SELECT json_agg(d.host ORDER BY d.host) FROM platform.domains d WHERE d.tenant_id = t.id), '[]'::json))
            )::text
            FROM platform.tenants t LEFT JOIN platform.partners p ON p.id = t.partner_id WHERE t.id = \(scope.id)
            """, logger: logger
        ).collect()
        return try rows.first!.decode(String.self)
    }

    /// The schema's tables, parents before children (by foreign keys), then by name.
    static func tables(of schema: SchemaName, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var names: [String] = []
        let tableRows = try await connection.query(
            """
            SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(schema.value) AND c.relkind IN ('r', 'p') ORDER BY c.relname
            """, logger: logger)
        for try await name in tableRows.decode(String.self) { names.append(name) }
        var dependsOn: [String: Set<String>] = [:]
        let fkRows = try await connection.query(
            """
            SELECT c.relname, p.relname FROM pg_catalog.pg_constraint k
            JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_class p ON p.oid = k.confrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE k.contype = 'f' AND n.nspname = \(schema.value) AND c.oid <> p.oid
            """, logger: logger)
        for try await (child, parent) in fkRows.decode((String, String).self) { dependsOn[child, default: []].insert(parent) }
        var ordered: [String] = []
        var placed: Set<String> = []
        while ordered.count < names.count {
            let ready = names.filter { !placed.contains($0) && (dependsOn[$0] ?? []).isSubset(of: placed) }
            let next = ready.isEmpty ? names.filter { !placed.contains($0) } : ready  // a cycle: keep going by name
            for name in next {
                ordered.append(name)
                placed.insert(name)
            }
        }
        return ordered
    }

    static func generatedColumns(
        _ table: String, schema: SchemaName, on connection: PostgresConnection, logger: Logger
    ) async throws -> [String] {
        var columns: [String] = []
        let rows = try await connection.query(
            """
            SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(schema.value) AND c.relname = \(table) AND a.attnum > 0 AND NOT a.attisdropped
                AND a.attgenerated <> ''
            """, logger: logger)
        for try await name in rows.decode(String.self) { columns.append(name) }
        return columns
    }

    static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
    static func textArray(_ items: [String]) -> String { "ARRAY[" + items.map(literal).joined(separator: ",") + "]::text[]" }
}

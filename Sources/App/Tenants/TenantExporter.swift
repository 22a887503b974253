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

    let tenants: TenantDatabase
    let directory: TenantDirectory

    public init(tenants: TenantDatabase, directory: TenantDirectory) {
        self.tenants = tenants
        self.directory = directory
    }

    /// Exports a tenant to `path` from one consistent snapshot, through the door (a read-only transaction with one
    /// snapshot; a suspended or deleted shop too, since exports are how its data leaves); returns row counts per table.
    @discardableResult
    public func export(slug: String, to path: String, progress: @Sendable (String, Int) -> Void = { _, _ in }) async throws -> [String: Int]
    {
        guard FileManager.default.createFile(atPath: path + ".partial", contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path + ".partial")
        else {
            throw TenancyError.invalidExport("cannot write \(path)")
        }
        defer { try? handle.close() }
        guard let tenant = try await directory.tenant(slug: slug) else { throw TenancyError.unknownTenant(slug) }
        let counts: [String: Int] = try await tenants.withTenant(tenant, readOnly: true, isolation: .repeatableRead, admitting: .anyLive) {
            tenantConnection in
            let connection = tenantConnection.connection
            let logger = tenantConnection.logger
            let scope = tenantConnection.scope
            let header = try await headerLine(scope: scope, on: tenantConnection)
            try handle.write(contentsOf: Data((header + "\n").utf8))
            var counts: [String: Int] = [:]
            for table in try await Self.tables(of: scope.schema, on: tenantConnection) where !Self.derivedTables.contains(table) {
                let generated =
                    try await Self.generatedColumns(table, schema: scope.schema, on: tenantConnection) + (Self.secretColumns[table] ?? [])
                let sql =
                    "SELECT json_build_object('table', \(Self.literal(table)), 'row', to_jsonb(r) - \(Self.textArray(generated)))::text FROM \(Self.identifier(table)) r"
                // Streamed, not collected: a table may hold more rows than fit in memory at once.
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
            return counts
        }
        let end = try JSONSerialization.data(withJSONObject: ["end": true, "rows": counts], options: [.sortedKeys])
        try handle.write(contentsOf: end + Data("\n".utf8))
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
        return counts
    }

    private func headerLine(scope: TenantScope, on tenant: TenantConnection) async throws -> String {
        let header = try await tenant.value(
            String.self,
            """
            SELECT json_build_object(
                'format', \(Self.format), 'version', \(Self.version), 'exported_at', now(),
                'schema_version', t.schema_version,
                'tenant', json_build_object('slug', t.slug, 'name', t.name, 'status', t.status, 'partner', p.slug,
                    'branding', t.branding,
                    'domains', COALESCE((SELECT json_agg(d.host ORDER BY d.host) FROM platform.domains d WHERE d.tenant_id = t.id), '[]'::json))
            )::text
            FROM platform.tenants t LEFT JOIN platform.partners p ON p.id = t.partner_id WHERE t.id = \(scope.id)
            """)
        guard let header else { throw TenancyError.invalidExport("the tenant is gone") }
        return header
    }

    /// Tables the schema's triggers rebuild from the others (the bot's search index): not exported, and rebuilt on
    /// import as the entries are inserted (vectors are embedded again by the job queue).
    static let derivedTables: Set<String> = ["knowledge_passages", "knowledge_words"]

    /// Secrets sealed under this installation's key (every tenant `SealedPlace`: useless elsewhere, and not to travel in
    /// a file): left out; the shop makes new ones after an import.
    static var secretColumns: [String: [String]] {
        Dictionary(grouping: SealedPlace.tenant, by: \.table).mapValues { $0.map(\.column) }
    }

    /// The schema's tables, parents before children (by foreign keys), then by name.
    static func tables(of schema: SchemaName, on runner: any QueryRunner) async throws -> [String] {
        let names = try await runner.values(
            String.self,
            """
            SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(schema.value) AND c.relkind IN ('r', 'p') ORDER BY c.relname
            """)
        var dependsOn: [String: Set<String>] = [:]
        let foreignKeys = try await runner.values(
            (String, String).self,
            """
            SELECT c.relname, p.relname FROM pg_catalog.pg_constraint k
            JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_class p ON p.oid = k.confrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE k.contype = 'f' AND n.nspname = \(schema.value) AND c.oid <> p.oid
            """)
        for (child, parent) in foreignKeys { dependsOn[child, default: []].insert(parent) }
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

    static func generatedColumns(_ table: String, schema: SchemaName, on runner: any QueryRunner) async throws -> [String] {
        try await runner.values(
            String.self,
            """
            SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(schema.value) AND c.relname = \(table) AND a.attnum > 0 AND NOT a.attisdropped
                AND a.attgenerated <> ''
            """)
    }

    static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
    static func textArray(_ items: [String]) -> String { "ARRAY[" + items.map(literal).joined(separator: ",") + "]::text[]" }
}

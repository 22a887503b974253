import Foundation
import PostgresNIO

/// Reads an export (docs/EXPORT.md) into a new tenant: provisioning and every row in one transaction.
public struct TenantImporter: Sendable {
    let database: Database
    let provisioner: TenantProvisioner
    let migrator: Migrator

    public init(database: Database, provisioner: TenantProvisioner, migrator: Migrator) {
        self.database = database
        self.provisioner = provisioner
        self.migrator = migrator
    }

    struct Header: Decodable {
        struct Tenant: Decodable {
            let slug: String
            let name: String
            let partner: String?
            let branding: Branding
            let domains: [String]
        }
        let format: String
        let version: Int
        let schema_version: Int
        let tenant: Tenant
    }

    /// Imports `path` as a new tenant (`slug` overrides the exported one); returns the slug and rows per table.
    public func importFile(_ path: String, slug: String?, withDomains: Bool) async throws -> (slug: String, rows: [String: Int]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TenancyError.invalidExport("cannot read \(path)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first, let header = try? JSONDecoder().decode(Header.self, from: Data(first.utf8)),
            header.format == TenantExporter.format
        else {
            throw TenancyError.invalidExport("the first line is not an export header")
        }
        guard header.version == TenantExporter.version else {
            throw TenancyError.invalidExport(
                "format version \(header.version) is not supported (this build reads \(TenantExporter.version))")
        }
        guard header.schema_version <= migrator.latestTenantVersion else {
            throw TenancyError.invalidExport(
                "it comes from a newer Vitrina (tenant schema \(header.schema_version) > \(migrator.latestTenantVersion))")
        }
        guard let last = lines.last, let end = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any],
            end["end"] as? Bool == true, let expected = end["rows"] as? [String: Int]
        else {
            throw TenancyError.invalidExport("the file is truncated (no end line)")
        }
        lines.removeFirst()
        lines.removeLast()
        var rowsByTable: [String: [String]] = [:]
        var tableOrder: [String] = []
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let table = object["table"] as? String, let row = object["row"]
            else { throw TenancyError.invalidExport("a row line is not valid JSON") }
            if rowsByTable[table] == nil { tableOrder.append(table) }
            let rowData = try JSONSerialization.data(withJSONObject: row)
            rowsByTable[table, default: []].append(String(decoding: rowData, as: UTF8.self))
        }
        for (table, count) in expected where (rowsByTable[table]?.count ?? 0) != count {
            throw TenancyError.invalidExport("table \(table) holds \(rowsByTable[table]?.count ?? 0) rows, the end line says \(count)")
        }
        let newSlug = slug ?? header.tenant.slug
        let spec = NewTenant(
            slug: newSlug, name: header.tenant.name, partnerSlug: header.tenant.partner, status: .active,
            domains: withDomains ? header.tenant.domains : [], branding: header.tenant.branding)
        let tables = rowsByTable
        let order = tableOrder
        let counts = try await database.transaction { transaction in
            let scope = try await provisioner.provision(spec, on: transaction)
            // The new tenant is not in the directory yet: the door's scoped form, on the transaction that creates it.
            return try await TenantDatabase.scoped(transaction, scope) { tenant in
                let known = try await TenantExporter.tables(of: scope.schema, on: tenant).filter {
                    !TenantExporter.derivedTables.contains($0)
                }
                // Seed rows made by provisioning give way to the exported ones.
                for table in known.reversed() where tables[table] != nil {
                    try await tenant.execute(PostgresQuery(unsafeSQL: "DELETE FROM \(TenantExporter.identifier(table))"))
                }
                var counts: [String: Int] = [:]
                for table in known {
                    guard let rows = tables[table], !rows.isEmpty else { continue }
                    try await insert(rows, into: table, on: tenant)
                    counts[table] = rows.count
                }
                if let unknown = order.first(where: { !known.contains($0) && !TenantExporter.derivedTables.contains($0) }) {
                    throw TenancyError.invalidExport("table \(unknown) does not exist in this version's tenant schema")
                }
                return counts
            }
        }
        return (newSlug, counts)
    }

    /// Inserts rows in chunks with `json_populate_recordset`, naming only the columns the export holds, then moves
    /// identity sequences past the imported ids.
    private func insert(_ rows: [String], into table: String, on tenant: TenantConnection) async throws {
        let scope = tenant.scope
        let generated = Set(try await TenantExporter.generatedColumns(table, schema: scope.schema, on: tenant))
        let columns = try await tenant.values(
            String.self,
            """
            SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(scope.schema.value) AND c.relname = \(table) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """
        ).filter { !generated.contains($0) }
        let present = (try? JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: Any]).map { Set($0.keys) } ?? []
        let list = columns.filter(present.contains).map(TenantExporter.identifier).joined(separator: ", ")
        let quotedTable = TenantExporter.identifier(table)
        var index = 0
        while index < rows.count {
            let chunk = rows[index..<min(index + 500, rows.count)]
            let json = "[" + chunk.joined(separator: ",") + "]"
            try await tenant.execute(
                PostgresQuery(
                    unsafeSQL:
                        "INSERT INTO \(quotedTable) (\(list)) SELECT \(list) FROM json_populate_recordset(NULL::\(quotedTable), $1::json)",
                    binds: {
                        var b = PostgresBindings(); b.append(json); return b
                    }()))
            index += 500
        }
        let identityColumns = try await tenant.values(
            String.self,
            """
            SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(scope.schema.value) AND c.relname = \(table) AND a.attidentity <> ''
            """)
        for column in identityColumns {
            let qualified = TenantExporter.literal(scope.schema.value + "." + TenantExporter.identifier(table))
            try await tenant.execute(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence(\(qualified), \(TenantExporter.literal(column))),
                            GREATEST((SELECT max(\(TenantExporter.identifier(column))) FROM \(quotedTable)), 1))
                        """))
        }
    }
}

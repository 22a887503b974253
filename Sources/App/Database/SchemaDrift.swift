import Foundation
import Logging
import PostgresNIO

/// TENANCY.md's drift check. Tenant statements are prepared per connection on the premise that every tenant schema
/// is the same; this holds each tenant schema's catalog (tables, columns with their types, nullability and defaults,
/// indexes, constraints, triggers) against a reference built from the tenant migrations, and names every difference.
public struct SchemaDrift: Sendable {
    let database: Database
    let migrator: Migrator

    public init(database: Database, migrator: Migrator) {
        self.database = database
        self.migrator = migrator
    }

    /// One tenant schema that differs from the reference.
    public struct Difference: Sendable, Equatable, Encodable {
        public let slug: String
        public let schema: String
        /// In the reference, not in the tenant's schema.
        public let missing: [String]
        /// In the tenant's schema, not in the reference.
        public let unexpected: [String]
    }

    /// What a check found.
    public struct Report: Sendable, Encodable {
        public let checked: Int
        public let referenceVersion: Int
        public let differences: [Difference]

        enum CodingKeys: String, CodingKey {
            case checked, differences
            case referenceVersion = "reference_version"
        }
    }

    /// Builds the reference (in a transaction that is rolled back, so nothing of it stays) and compares every live
    /// tenant schema at the current version with it. Tenants behind on migrations are for `vitrina migrate`.
    public func check() async throws -> Report {
        let reference = try await referenceCatalog()
        let tenants = try await database.values(
            (String, String).self,
            """
            SELECT slug, schema_name FROM platform.tenants
            WHERE status <> 'purged' AND schema_version = \(migrator.latestTenantVersion) ORDER BY slug
            """)
        let schemas = tenants.map(\.1)
        var catalogs: [String: Set<String>] = [:]
        for (schema, line) in try await database.values((String, String).self, Self.catalogQuery(schemas)) {
            catalogs[schema, default: []].insert(Self.neutral(line, schema: schema))
        }
        let differences = tenants.compactMap { slug, schema -> Difference? in
            let catalog = catalogs[schema] ?? []
            guard catalog != reference else { return nil }
            return Difference(
                slug: slug, schema: schema, missing: reference.subtracting(catalog).sorted(),
                unexpected: catalog.subtracting(reference).sorted())
        }
        return Report(checked: tenants.count, referenceVersion: migrator.latestTenantVersion, differences: differences)
    }

    /// The catalog of a schema made from every tenant migration, as provisioning makes one.
    func referenceCatalog() async throws -> Set<String> {
        struct RolledBack: Error { let catalog: Set<String> }
        do {
            try await database.transaction { transaction in
                let schema = SchemaName.generate()
                try await transaction.execute(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema.value)"))
                try await TenantDatabase.scoped(transaction, TenantScope(id: UUID(), schema: schema)) { tenant in
                    try await migrator.applyTenantFiles(on: tenant, after: 0)
                }
                let lines = try await transaction.values((String, String).self, Self.catalogQuery([schema.value]))
                throw RolledBack(catalog: Set(lines.map { Self.neutral($0.1, schema: schema.value) }))
            }
        } catch let done as RolledBack {
            return done.catalog
        }
        return []
    }

    /// A catalog line with the schema's own name taken out (definitions name it: `ON t_abc.help_articles`).
    static func neutral(_ line: String, schema: String) -> String {
        line.replacingOccurrences(of: schema + ".", with: "").replacingOccurrences(of: "\"" + schema + "\".", with: "")
    }

    /// One line per object of the named schemas: `(schema, description)`.
    static func catalogQuery(_ schemas: [String]) -> PostgresQuery {
        """
        SELECT n.nspname::text, 'relation ' || c.relname || ' (' || c.relkind::text || ')'
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(\(schemas)) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i')
        UNION ALL
        SELECT n.nspname::text, 'column ' || c.relname || '.' || a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
            || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END
            || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END
            || coalesce(' default ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = ANY(\(schemas)) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT n.nspname::text, 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
        FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(\(schemas))
        UNION ALL
        SELECT n.nspname::text, 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid)
        FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(\(schemas))
        UNION ALL
        SELECT n.nspname::text, 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid)
        FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(\(schemas)) AND NOT t.tgisinternal
        """
    }
}

import App
import ArgumentParser
import Foundation
import PostgresNIO

/// `vitrina tenants …`: provisioning and lifecycle.
struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and manage tenants; apply a tenants.yml manifest.",
        subcommands: [
            Apply.self, Create.self, List.self, Show.self, Suspend.self, Resume.self, Delete.self, Export.self, Import.self, Drift.self,
        ])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update partners, tenants, domains, branding and help articles from a manifest.",
            discussion: """
                Idempotent: a second run of the same file changes nothing and says so. Nothing absent from the file is \
                deleted unless --prune is given. The whole file is applied in one transaction, or not at all.
                """)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The manifest (YAML).") var file: String
        @Flag(help: "Print the plan and change nothing.") var dryRun = false
        @Flag(help: "Also remove domains and help articles of the listed partners and tenants that the file does not name.")
        var prune = false

        func run() async throws {
            try await Runtime.run {
                let config = try Runtime.configuration(options)
                let manifest = try ManifestParser.load(path: file, baseDomain: config.baseDomain)
                let changes = try await Runtime.withServices(options) { services in
                    _ = try await services.migrator.migrate()
                    return try await services.manifestApplier(file: file).apply(manifest, dryRun: dryRun, prune: prune)
                }
                let scope = "\(manifest.partners.count) partner(s) and \(manifest.tenants.count) tenant(s)"
                if changes.isEmpty {
                    say("Nothing to change: \(scope) in \(file) are up to date.")
                    return
                }
                for change in changes { say(change.description) }
                say(
                    dryRun
                        ? "Dry run: \(changes.count) change(s) planned; nothing was written."
                        : "Applied \(changes.count) change(s) to \(scope).")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant: its schema, tables and domains, in one transaction.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Lower-case letters, digits and hyphens; the tenant answers at <slug>.<base domain>.") var slug: String
        @Option(help: "The merchant's name.") var name: String
        @Option(help: "Slug of the partner agency that manages it.") var partner: String?
        @Option(name: .customLong("domain"), help: "A custom domain (repeatable).") var domains: [String] = []

        func run() async throws {
            try await Runtime.run {
                let started = ContinuousClock.now
                let scope = try await Runtime.withServices(options) { services in
                    _ = try await services.migrator.migrate()
                    return try await services.provisioner.provision(
                        NewTenant(slug: slug, name: name, partnerSlug: partner, domains: domains))
                }
                let ms = (ContinuousClock.now - started).components
                say("Created tenant \(slug) (schema \(scope.schema), \(ms.seconds * 1000 + ms.attoseconds / 1_000_000_000_000_000) ms).")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Include purged tenants.") var all = false

        func run() async throws {
            try await Runtime.run {
                let rows = try await Runtime.withServices(options) { services in
                    try await TenantRow.fetch(services, slug: nil, includePurged: all)
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    encoder.dateEncodingStrategy = .iso8601
                    say(String(decoding: try encoder.encode(rows), as: UTF8.self))
                    return
                }
                if rows.isEmpty {
                    say("No tenants yet. Create one with `vitrina tenants create` or `vitrina tenants apply tenants.yml`.")
                    return
                }
                let table =
                    [["SLUG", "NAME", "STATUS", "PARTNER", "DOMAINS", "SCHEMA"]]
                    + rows.map {
                        [
                            $0.slug, $0.name, $0.status, $0.partner ?? "-", $0.domains.joined(separator: ","),
                            "\($0.schema ?? "-") v\($0.schemaVersion)",
                        ]
                    }
                printTable(table)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The tenant's slug.") var slug: String

        func run() async throws {
            try await Runtime.run {
                let config = try Runtime.configuration(options)
                let rows = try await Runtime.withServices(options) { services in
                    try await TenantRow.fetch(services, slug: slug, includePurged: false)
                }
                guard let row = rows.first else { throw TenancyError.unknownTenant(slug) }
                var lines = [
                    "Tenant      \(row.slug) (\(row.name))",
                    "Status      \(row.status)",
                    "Partner     \(row.partner ?? "-")",
                    "Schema      \(row.schema ?? "-") at version \(row.schemaVersion)",
                    "Articles    \(row.articles.map(String.init) ?? "-")",
                    "Created     \(ISO8601DateFormatter().string(from: row.createdAt))",
                    "Answers at  \(row.slug).\(config.baseDomain)"
                        + (row.domains.isEmpty ? "" : ", " + row.domains.joined(separator: ", ")),
                ]
                if let error = row.migrationError { lines.append("Migration   FAILED: \(error)") }
                say(lines.joined(separator: "\n"))
            }
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a tenant: its pages answer 503, its data stays.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The tenant's slug.") var slug: String
        func run() async throws { try await lifecycle(.suspend, slug: slug, options: options) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a suspended or deleted (not purged) tenant active again.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The tenant's slug.") var slug: String
        func run() async throws { try await lifecycle(.resume, slug: slug, options: options) }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant: it stops answering (404), its data is kept until purged.",
            discussion: "With --purge, the tenant's schema and all its data are dropped for good.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The tenant's slug.") var slug: String
        @Flag(help: "Drop the tenant's schema and data for good.") var purge = false
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            guard purge else { return try await lifecycle(.delete, slug: slug, options: options) }
            try await Runtime.run {
                if !yes {
                    guard isatty(STDIN_FILENO) == 1 else {
                        throw CLIError.usage("Purging drops all of \(slug)'s data; confirm with --yes when not at a terminal.")
                    }
                    say("This drops the schema of tenant '\(slug)' and all its data. Type the slug to confirm: ", terminator: "")
                    guard readLine()?.trimmingCharacters(in: .whitespaces) == slug else {
                        throw CLIError.usage("Not confirmed; nothing was changed.")
                    }
                }
                try await Runtime.withServices(options) { services in try await services.provisioner.purge(slug: slug) }
                say("Purged tenant \(slug): its schema and data are gone; the slug may be reused.")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export all of a tenant's data to a JSON Lines file (format: docs/EXPORT.md).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The tenant's slug.") var slug: String
        @Option(help: "Where to write the export.") var out: String

        func run() async throws {
            try await Runtime.run {
                let counts = try await Runtime.withServices(options) { services in
                    try await services.exporter.export(slug: slug, to: out) { table, count in say("  \(table): \(count) row(s)") }
                }
                say("Exported \(slug) to \(out) (\(counts.values.reduce(0, +)) rows in \(counts.count) tables).")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant from an export file.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The export file.") var file: String
        @Option(help: "Slug for the new tenant (default: the exported one).") var slug: String?
        @Flag(name: .customLong("without-domains"), help: "Do not claim the exported custom domains.") var withoutDomains = false

        func run() async throws {
            try await Runtime.run {
                let result = try await Runtime.withServices(options) { services in
                    _ = try await services.migrator.migrate()
                    return try await services.importer.importFile(file, slug: slug, withDomains: !withoutDomains)
                }
                say("Imported \(file) as tenant \(result.slug) (\(result.rows.values.reduce(0, +)) rows).")
            }
        }
    }
}

extension Tenants {
    struct Drift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare every tenant schema's catalog with the one the tenant migrations make; name any difference.",
            discussion: """
                Statements are prepared once per connection on the premise that every tenant schema is the same. This \
                builds a reference schema from Migrations/tenant (in a transaction that is rolled back) and lists, per \
                tenant, what is missing from its schema or should not be there. Exits with 1 when any schema differs.
                """)
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await Runtime.run {
                let report = try await Runtime.withServices(options) { services in try await services.drift.check() }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    say(String(decoding: try encoder.encode(report), as: UTF8.self))
                } else if report.differences.isEmpty {
                    say("All \(report.checked) tenant schema(s) match the reference (tenant migrations up to \(report.referenceVersion)).")
                } else {
                    for difference in report.differences {
                        say("\(difference.slug) (\(difference.schema)) differs from the reference:")
                        for line in difference.missing { say("  - missing: \(line)") }
                        for line in difference.unexpected { say("  + unexpected: \(line)") }
                    }
                    say("\(report.differences.count) of \(report.checked) tenant schema(s) differ.")
                }
                if !report.differences.isEmpty { throw ExitCode(1) }
            }
        }
    }
}

func lifecycle(_ action: TenantProvisioner.Action, slug: String, options: GlobalOptions) async throws {
    try await Runtime.run {
        let changed = try await Runtime.withServices(options) { services in try await services.provisioner.perform(action, slug: slug) }
        switch action {
        case .suspend: say(changed ? "Suspended \(slug): its pages now answer 503." : "\(slug) was already suspended.")
        case .resume: say(changed ? "Resumed \(slug): it answers again." : "\(slug) was already active.")
        case .delete:
            say(changed ? "Deleted \(slug): it no longer answers; its data is kept (purge with --purge)." : "\(slug) was already deleted.")
        }
    }
}

/// A tenant as `list` and `show` print it.
struct TenantRow: Codable, Sendable {
    var slug: String
    var name: String
    var status: String
    var partner: String?
    var schema: String?
    var schemaVersion: Int
    var domains: [String]
    var articles: Int?
    var migrationError: String?
    var createdAt: Date

    static func fetch(_ services: AppServices, slug: String?, includePurged: Bool) async throws -> [TenantRow] {
        var rows = try await services.database.values(
            (String, String, String, String?, String?, Int, String?, Date, [String]).self,
            """
            SELECT t.slug, t.name, t.status, p.slug, t.schema_name, t.schema_version, t.migration_error, t.created_at,
                COALESCE((SELECT array_agg(d.host ORDER BY d.host) FROM platform.domains d WHERE d.tenant_id = t.id), '{}')
            FROM platform.tenants t LEFT JOIN platform.partners p ON p.id = t.partner_id
            WHERE (\(slug)::text IS NULL OR t.slug = \(slug)) AND (\(includePurged) OR t.status <> 'purged')
            ORDER BY t.slug, t.created_at
            """
        ).map { slug, name, status, partner, schema, version, error, created, domains in
            TenantRow(
                slug: slug, name: name, status: status, partner: partner, schema: schema, schemaVersion: version, domains: domains,
                articles: nil, migrationError: error, createdAt: created)
        }
        // One tenant: its articles too, counted through the door (whatever its status, while its schema exists).
        if let slug, !rows.isEmpty, let tenant = try await services.directory.tenant(slug: slug) {
            rows[0].articles = try await services.tenants.withTenant(tenant, readOnly: true, admitting: .anyLive) { tenant in
                try await tenant.value(Int.self, "SELECT count(*)::int FROM help_articles")
            }
        }
        return rows
    }
}

func printTable(_ rows: [[String]]) {
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        say(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}

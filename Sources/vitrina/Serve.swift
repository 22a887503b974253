import App
import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `vitrina serve`: the HTTP server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the web server (applies pending migrations first).")

    @OptionGroup var options: GlobalOptions

    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = 8080
    @Flag(name: .customLong("no-migrate"), help: "Do not apply pending migrations at start.") var noMigrate = false
    @Flag(name: .customLong("trust-proxy"), help: "Believe X-Forwarded-Host/-For/-Proto (same as VITRINA_TRUST_PROXY=true).")
    var trustProxy = false
    @Option(name: .customLong("load"), help: "A tenants.yml manifest to apply before serving (idempotent).")
    var manifest: String?
    @Flag(name: .customLong("print-urls"), help: "Print the URLs of the tenants and partners once the server is up.")
    var printURLs = false

    func run() async throws {
        try await Runtime.run {
            var config = try Runtime.configuration(options)
            config.host = host
            config.port = port
            if noMigrate { config.migrateOnStart = false }
            if trustProxy { config.trustProxy = true }
            guard (1...65535).contains(port) else { throw CLIError.usage("--port must be between 1 and 65535.") }
            let logger = Runtime.logger(config, console: false)
            let (database, embedded) = try await Runtime.openDatabase(config, logger: logger)
            defer { embedded?.stop() }
            let services = try AppServices(configuration: config, database: database, logger: logger)
            let settings = config
            let app = try await buildApplication(services) { services in
                if let manifest { try await loadManifest(manifest, services: services, config: settings) }
                if printURLs { printDirectory(services: services, config: settings) }
            }
            try await app.runService()
        }
    }

    /// Applies a manifest before the first request, then reloads the directory so its hosts answer at once.
    private func loadManifest(_ path: String, services: AppServices, config: AppConfiguration) async throws {
        let manifest = try ManifestParser.load(path: path, baseDomain: config.baseDomain)
        let applier = ManifestApplier(
            client: services.database.client, provisioner: services.provisioner, file: path, logger: services.logger)
        let changes = try await applier.apply(manifest, dryRun: false)
        say(changes.isEmpty ? "\(path): up to date." : "\(path): \(changes.count) change(s) applied.")
        try await services.directory.reload()
    }

    private func printDirectory(services: AppServices, config: AppConfiguration) {
        let snapshot = services.directory.snapshot
        let port = config.port == 80 ? "" : ":\(config.port)"
        var lines = ["", "Vitrina is running. Open:", "  Platform:  http://\(config.baseDomain)\(port)/"]
        for partner in snapshot.partnersBySlug.values.sorted(by: { $0.slug < $1.slug }) {
            for domain in partner.domains { lines.append("  Partner \(partner.name):  http://\(domain)\(port)/") }
        }
        for tenant in snapshot.tenantsBySlug.values.sorted(by: { $0.slug < $1.slug }) where tenant.status != .deleted {
            let note = tenant.status == .suspended ? "  (suspended: shows the 503 page)" : ""
            lines.append("  \(tenant.name):  http://\(tenant.slug).\(config.baseDomain)\(port)/help\(note)")
            for domain in tenant.domains { lines.append("      also  http://\(domain)\(port)/help") }
        }
        lines.append("Stop with Ctrl+C.")
        say(lines.joined(separator: "\n"))
    }
}

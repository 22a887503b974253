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
    @Flag(name: .customLong("no-workers"), help: "Serve requests only; run the job workers and periodic work with `vitrina work`.")
    var noWorkers = false
    @Flag(
        name: .customLong("demo-storefronts"),
        help: "Serve each shop's demo storefront at store.<slug>.<base domain>, embedding its chat widget (make run).")
    var demoStorefronts = false
    @Flag(
        name: .customLong("demo-channels"),
        help: "Play Telegram's and WhatsApp's APIs in this process (any demo token works): `vitrina channels simulate` (make run).")
    var demoChannels = false

    func run() async throws {
        try await Runtime.run {
            var config = try Runtime.configuration(options)
            config.host = host
            config.port = port
            if noMigrate { config.migrateOnStart = false }
            if trustProxy { config.trustProxy = true }
            if noWorkers { config.runWorkers = false }
            if demoStorefronts { config.demoStorefronts = true }
            guard (1...65535).contains(port) else { throw CLIError.usage("--port must be between 1 and 65535.") }
            let logger = Runtime.logger(config, console: false)
            let (database, embedded) = try await Runtime.openDatabase(config, logger: logger)
            defer { embedded?.stop() }
            // Semantic retrieval's embeddings; the local server is shared with the other Vitrina processes.
            let (embeddings, localEmbeddings) = await Runtime.openEmbeddings(config, logger: logger)
            defer { localEmbeddings?.stop() }
            // make run's demo: the messengers' APIs are fakes in this process, so the bots' answers have somewhere to go.
            let fakes = demoChannels ? try await DemoChannels.start() : nil
            if let fakes {
                config.channels.telegram = fakes.telegramURL
                config.channels.whatsapp = fakes.whatsappURL
            }
            let metrics = Observability.bootstrapMetrics()
            let services = try await AppServices.make(configuration: config, database: database, logger: logger, embeddings: embeddings)
            let settings = config
            let app = try await buildApplication(services, metrics: metrics) { services in
                var loaded: Manifest?
                if let manifest { loaded = try await loadManifest(manifest, services: services, config: settings) }
                if demoChannels { try await DemoChannels.connectShops(services) }
                if printURLs { printDirectory(services: services, config: settings, manifest: loaded) }
            }
            try await app.runService()
            try await fakes?.stop()
        }
    }

    /// Applies a manifest before the first request, then reloads the directory so its hosts answer at once.
    private func loadManifest(_ path: String, services: AppServices, config: AppConfiguration) async throws -> Manifest {
        let manifest = try ManifestParser.load(path: path, baseDomain: config.baseDomain)
        let changes = try await services.manifestApplier(file: path).apply(manifest, dryRun: false)
        say(changes.isEmpty ? "\(path): up to date." : "\(path): \(changes.count) change(s) applied.")
        try await services.directory.reload()
        return manifest
    }

    private func printDirectory(services: AppServices, config: AppConfiguration, manifest: Manifest?) {
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
        if let manifest { lines += logins(manifest, config: config, port: port) }
        // Each active shop's bot, in the panel's test chat (signed in as one of the shop's accounts above).
        let shops = snapshot.tenantsBySlug.values.filter { $0.status == .active }.sorted { $0.slug < $1.slug }
        if !shops.isEmpty {
            lines += ["", "Try the bot (signed in as the shop's account):"]
            for tenant in shops { lines.append("  \(tenant.name):  http://\(tenant.slug).\(config.baseDomain)\(port)/admin/bot/try") }
            if config.demoStorefronts {
                lines += ["", "Shops' storefronts with the chat widget (answer as an operator in the shop's Inbox):"]
                for tenant in shops {
                    lines.append(
                        "  \(tenant.name):  http://store.\(tenant.slug).\(config.baseDomain)\(port)/   inbox: "
                            + "http://\(tenant.slug).\(config.baseDomain)\(port)/admin/inbox")
                }
            }
        }
        if config.channels.telegram.hasPrefix("http://127.0.0.1"), !shops.isEmpty {
            lines += ["", "Try the channels (this server plays Telegram's and WhatsApp's APIs; the command plays the shopper):"]
            let server = config.port == 8080 ? "" : " --server http://127.0.0.1:\(config.port)"
            for tenant in shops.prefix(2) {
                lines.append("  .build/debug/vitrina channels simulate \(tenant.slug) telegram \"Сколько идёт доставка?\"\(server)")
            }
            if let first = shops.first {
                lines.append("  .build/debug/vitrina channels simulate \(first.slug) whatsapp \"Как вернуть товар?\"\(server)")
                lines.append("  .build/debug/vitrina channels simulate \(first.slug) alice \"Сколько стоит доставка?\"\(server)")
            }
            lines.append("  (each shop's Messengers page: http://<shop>.\(config.baseDomain)\(port)/admin/bot/channels)")
        }
        lines.append("Stop with Ctrl+C.")
        say(lines.joined(separator: "\n"))
    }

    /// The manifest's accounts and where they sign in. Passwords are printed only for demo accounts (whose variable
    /// starts with VITRINA_DEMO), never for real ones.
    private func logins(_ manifest: Manifest, config: AppConfiguration, port: String) -> [String] {
        var rows: [(String, String, String)] = []
        for admin in manifest.admins ?? [] { rows.append(("http://\(config.baseDomain)\(port)/admin", admin.email, admin.role.rawValue)) }
        for partner in manifest.partners {
            let host = partner.domains.first ?? config.baseDomain
            for admin in partner.admins ?? [] { rows.append(("http://\(host)\(port)/admin", admin.email, admin.role.rawValue)) }
        }
        for tenant in manifest.tenants where tenant.status == .active {
            for admin in tenant.admins ?? [] {
                rows.append(("http://\(tenant.slug).\(config.baseDomain)\(port)/admin", admin.email, admin.role.rawValue))
            }
        }
        guard !rows.isEmpty else { return [] }
        let environment = ProcessInfo.processInfo.environment
        let demo = (manifest.admins ?? []).first?.passwordEnv ?? manifest.tenants.compactMap { $0.admins?.first?.passwordEnv }.first
        var lines = ["", "Sign in at:"]
        if let demo, demo.hasPrefix("VITRINA_DEMO"), let password = environment[demo] {
            lines[1] = "Sign in at (every demo account's password: \(password)):"
        }
        let width = rows.map(\.0.count).max() ?? 0
        for (url, email, role) in rows {
            lines.append("  " + url.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + email + "  (" + role + ")")
        }
        return lines
    }
}

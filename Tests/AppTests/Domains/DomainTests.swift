import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Synchronization
import Testing

@testable import App

/// DNS answers and HTTP challenge answers the tests control; counts the TXT look-ups per name.
final class FakeDNS: DNSResolver, ChallengeFetcher {
    let state = Mutex<(txt: [String: [String]], cname: [String: String], http: [String: String], lookups: [String: Int])>(
        (txt: [:], cname: [:], http: [:], lookups: [:]))

    func txtRecords(_ name: String) async throws -> [String] {
        state.withLock {
            $0.lookups[name, default: 0] += 1
            return $0.txt[name] ?? []
        }
    }

    func canonicalName(_ name: String) async throws -> String? { state.withLock { $0.cname[name] } }

    func addresses(_ name: String) async throws -> [String] { [] }

    func fetch(host: String, path: String) async -> String? { state.withLock { $0.http[host + path] } }
}

/// A dnsmasq on a loopback port with the records given: the real DNS server the libresolv look-ups are tested against.
final class DNSMasq: @unchecked Sendable {
    private(set) var process: Process
    let port: Int

    init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Stops this server and starts one on the same port with other records.
    func restart(records: [String]) async throws {
        stop()
        process = try await Self.start(records: records, port: port).process
    }

    static func start(records: [String], port fixedPort: Int? = nil) async throws -> DNSMasq {
        let binary = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            Issue.record("dnsmasq is not installed (make test installs dnsmasq-base)")
            throw CancellationError()
        }
        var lastError: Error?
        for _ in 0..<5 {
            let port = fixedPort ?? Int.random(in: 20_000..<60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments =
                [
                    "--keep-in-foreground", "--port=\(port)", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                    "--no-hosts",
                    "--pid-file=", "--local=/example/", "--user=\(NSUserName())", "--log-facility=/dev/null",
                ] + records
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            // Ready when it answers (or gone when the port was taken).
            for _ in 0..<40 where process.isRunning {
                if (try? await SystemDNSResolver(server: DNSServerAddress(address: "127.0.0.1", port: port)).query(
                    "ready.example", type: 16))
                    != nil
                {
                    return DNSMasq(process: process, port: port)
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw lastError ?? CocoaError(.executableLoad)
    }

    var server: DNSServerAddress { DNSServerAddress(address: "127.0.0.1", port: port) }

    /// SIGKILL: the test process ignores SIGTERM (the service lifecycle's graceful-shutdown handling), and children
    /// inherit ignored signals. (`waitUntilExit` never returns inside the test process: its signals are blocked.)
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<100 where process.isRunning { usleep(10_000) }
    }
}

@Suite struct DomainTests {
    static let password = "correct-horse-battery"

    @Test func domainsAreNormalisedAndTheInstallationsOwnNamesRefused() {
        let base = "vitrina.test"
        #expect(DomainStore.normalize("  Help.Example.COM. ", baseDomain: base) == .success("help.example.com"))
        #expect(DomainStore.normalize("https://help.example.com/", baseDomain: base) == .success("help.example.com"))
        let idn = try? DomainStore.normalize("Помощь.Магазин.РФ", baseDomain: base).get()
        #expect(idn?.hasPrefix("xn--") == true && idn?.hasSuffix(".xn--p1ai") == true && idn == idn?.lowercased())
        for bad in ["", "localhost", "192.168.1.1", "help.example.com/path", "help.example.com:8080", "a b.com", "-x.example"] {
            #expect(DomainStore.normalize(bad, baseDomain: base) == .failure(.invalid), "\(bad)")
        }
        #expect(DomainStore.normalize("vitrina.test", baseDomain: base) == .failure(.reserved))
        #expect(DomainStore.normalize("other-shop.vitrina.test", baseDomain: base) == .failure(.reserved))
    }

    @Test func theHTTPCheckOnlyContactsPublicAddresses() {
        for address in ["8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1"] {
            #expect(HTTPChallengeFetcher.isPublicIPv4(address), "\(address)")
        }
        for address in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
            "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1", "not-an-ip", "1.2.3",
        ] {
            #expect(!HTTPChallengeFetcher.isPublicIPv4(address), "\(address)")
        }
    }

    @Test func aDomainIsVerifiedByItsTXTRecordAndOnlyThenRoutes() async throws {
        try await TestEnvironment.with { env in
            let bolt = try await env.makeTenant("bolt")
            let nail = try await env.makeTenant("nail")
            try await env.services.directory.reload()
            let dns = FakeDNS()
            let store = DomainStore(
                database: env.services.database, verifier: DomainVerifier(resolver: dns, fetcher: dns, cnameTarget: "edge.hosting.example"),
                directory: env.services.directory, checkSpacing: .zero, logger: TestDatabase.logger)
            func add(_ host: String, _ owner: DomainOwner) async throws -> Result<DomainRecord, DomainError> {
                try await env.services.database.transaction { try await store.add(host, owner: owner, on: $0) }
            }
            let domain = try await add("Help.Bolt.example", .tenant(bolt.id)).get()
            #expect(domain.host == "help.bolt.example" && !domain.isVerified && domain.token != nil)
            #expect(try await add("help.bolt.example", .tenant(nail.id)) == .failure(.taken))

            // Nothing published yet: checked, not verified, not routed, no certificate.
            let first = try await store.verify("help.bolt.example", owner: .tenant(bolt.id)).get()
            #expect(!first.verified && first.summary == "txt=missing;cname=missing;http=failed")
            #expect(env.services.directory.resolve(host: "help.bolt.example") == nil)
            #expect(try await store.find("help.bolt.example", owner: .tenant(bolt.id))?.checkResult == first.summary)
            // Another shop cannot check, remove or promote it.
            #expect(try await store.verify("help.bolt.example", owner: .tenant(nail.id)) == .failure(.notFound))
            let removedByOther = try await env.services.database.transaction {
                try await store.remove("help.bolt.example", owner: .tenant(nail.id), on: $0)
            }
            #expect(!removedByOther)

            // A wrong token does not count; the right one (under either label) does.
            let token = try #require(domain.token)
            dns.state.withLock {
                $0.txt["_domain-challenge.help.bolt.example"] = ["someone-else", "v=spf1 -all"]
                $0.cname["help.bolt.example"] = "elsewhere.example"
            }
            let wrong = try await store.verify("help.bolt.example", owner: .tenant(bolt.id)).get()
            #expect(!wrong.verified && wrong.summary == "txt=missing;cname=other;http=failed")
            dns.state.withLock {
                $0.txt["_domain-challenge.help.bolt.example"] = [token]
                $0.cname["help.bolt.example"] = "edge.hosting.example"
            }
            let passed = try await store.verify("help.bolt.example", owner: .tenant(bolt.id)).get()
            #expect(passed.verified && passed.method == "dns" && passed.summary == "txt=ok;cname=ok;http=failed")
            #expect(
                DomainCheckResult(summary: passed.summary)?.summary == passed.summary
                    && DomainCheckResult(summary: passed.summary)?.verified == true)
            let stored = try #require(try await store.find("help.bolt.example", owner: .tenant(bolt.id)))
            #expect(stored.isVerified && stored.verifiedBy == "dns")
            guard case .tenant(let routed) = env.services.directory.resolve(host: "help.bolt.example") else {
                Issue.record("the verified domain does not route")
                return
            }
            #expect(routed.slug == "bolt")

            // The branded label counts only for brands that show the platform's name (white-label shops are never
            // even asked for it: the question would show in their DNS logs).
            let branded = try await add("shop.nail.example", .tenant(nail.id)).get()
            dns.state.withLock { $0.txt["_vitrina-challenge.shop.nail.example"] = [branded.token ?? ""] }
            #expect(try await store.verify("shop.nail.example", owner: .tenant(nail.id)).get().verified == false)
            #expect(dns.state.withLock { $0.lookups["_vitrina-challenge.shop.nail.example"] } == nil)
            dns.state.withLock { $0.txt["_domain-challenge.shop.nail.example"] = [branded.token ?? ""] }
            #expect(try await store.verify("shop.nail.example", owner: .tenant(nail.id)).get().verified)

            // Under another owner's verified domain, the HTTP challenge proves nothing (a wildcard record would answer
            // it); the TXT record is still required. The installation's own CNAME target cannot be claimed.
            let under = try await add("x.help.bolt.example", .tenant(nail.id)).get()
            dns.state.withLock {
                $0.http["x.help.bolt.example" + DomainChallenge.path(label: "_domain-challenge", token: under.token ?? "")] = under.token
            }
            #expect(try await store.verify("x.help.bolt.example", owner: .tenant(nail.id)).get().verified == false)
            #expect(try await add("edge.hosting.example", .tenant(nail.id)) == .failure(.reserved))

            // Only a verified domain can be primary; at most one is.
            _ = try await add("pending.bolt.example", .tenant(bolt.id)).get()
            let refused = try await env.services.database.transaction {
                try await store.setPrimary("pending.bolt.example", primary: true, owner: .tenant(bolt.id), on: $0)
            }
            guard case .failure(.notVerified) = refused else {
                Issue.record("an unverified domain was made primary")
                return
            }
            // Two so far; eight more reach the limit of ten.
            _ = try await env.services.database.transaction {
                try await store.remove("x.help.bolt.example", owner: .tenant(nail.id), on: $0)
            }
            for index in 2..<DomainStore.limitPerOwner {
                #expect((try? await add("extra\(index).bolt.example", .tenant(bolt.id)).get()) != nil)
            }
            #expect(try await add("one-too-many.bolt.example", .tenant(bolt.id)) == .failure(.limit))
        }
    }

    @Test func applyWithPruneKeepsDomainsShopsAddedAndVouchesForDeclaredOnes() async throws {
        try await TestEnvironment.with { env in
            func apply(_ domains: String) async throws -> [String] {
                var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
                let manifest = try parser.parse("tenants:\n  - {slug: bolt, name: Bolt, domains: [\(domains)]}")
                let applier = env.services.manifestApplier(file: "t.yml")
                return try await applier.apply(manifest, dryRun: false, prune: true).map(\.text)
            }
            _ = try await apply("old.bolt.example")
            let bolt = try #require(try await env.provisioner.lookup(slug: "bolt"))
            try await env.services.directory.reload()
            for host in ["mine.bolt.example", "declared.bolt.example"] {
                _ = try await env.services.database.transaction {
                    try await env.services.domains.add(host, owner: .tenant(bolt), on: $0)
                }
            }
            let changes = try await apply("declared.bolt.example")
            #expect(
                changes.contains("domain old.bolt.example from tenant bolt") && changes.contains("domain declared.bolt.example verified"))
            let rows = try await env.client.query(
                "SELECT host, coalesce(verified_by, '-') FROM platform.domains WHERE tenant_id = \(bolt) ORDER BY host",
                logger: TestDatabase.logger)
            var found: [String] = []
            for try await (host, by) in rows.decode((String, String).self) { found.append("\(host) \(by)") }
            #expect(found == ["declared.bolt.example operator", "mine.bolt.example -"])
        }
    }

    @Test func thePeriodicCheckClaimsEachDomainOnceAcrossInstances() async throws {
        try await TestEnvironment.with { env in
            let bolt = try await env.makeTenant("bolt")
            try await env.services.directory.reload()
            let dns = FakeDNS()
            let store = DomainStore(
                database: env.services.database, verifier: DomainVerifier(resolver: dns, fetcher: dns, cnameTarget: "edge.vitrina.test"),
                directory: env.services.directory, checkSpacing: .zero, logger: TestDatabase.logger)
            var tokens: [String: String] = [:]
            for index in 0..<6 {
                let domain = try await env.services.database.transaction {
                    try await store.add("d\(index).bolt.example", owner: .tenant(bolt.id), on: $0)
                }.get()
                tokens[domain.host] = domain.token
            }
            dns.state.withLock { $0.txt["_domain-challenge.d3.bolt.example"] = [tokens["d3.bolt.example"] ?? ""] }
            // Three instances at once: every domain is checked exactly once, and one passes.
            async let a = store.verifyPending(limit: 4)
            async let b = store.verifyPending(limit: 4)
            async let c = store.verifyPending(limit: 4)
            let passed = try await a + b + c
            #expect(passed == 1)
            let lookups = dns.state.withLock { $0.lookups }
            for index in 0..<6 where index != 3 {
                #expect(lookups["_domain-challenge.d\(index).bolt.example"] == 1, "d\(index) checked \(lookups)")
            }
            // Checked a moment ago: nothing is due.
            #expect(try await store.verifyPending() == 0)
            #expect(dns.state.withLock { $0.lookups.values.reduce(0, +) } == lookups.values.reduce(0, +))
        }
    }

    @Test func libresolvAsksARealDNSServerAndThePanelVerifiesThroughIt() async throws {
        let probe = try await DNSMasq.start(records: [
            "--txt-record=_domain-challenge.probe.example,abc,def", "--cname=www.probe.example,edge.vitrina.test",
            "--host-record=edge.vitrina.test,127.0.0.1",
        ])
        defer { probe.stop() }
        let resolver = SystemDNSResolver(server: probe.server)
        #expect(try await resolver.txtRecords("_domain-challenge.probe.example") == ["abcdef"])
        #expect(try await resolver.canonicalName("www.probe.example") == "edge.vitrina.test")
        #expect(try await resolver.txtRecords("nothing.probe.example") == [])
        #expect(try await resolver.canonicalName("nothing.probe.example") == nil)

        // The app asks a DNS server on loopback; it is restarted on the same port with the records once they are known.
        let dns = try await DNSMasq.start(records: [])
        defer { dns.stop() }
        let server = dns.server
        try await TestEnvironment.with(configure: { $0.dnsServer = server }) { env in
            try await env.makeTenant("bolt")
            try await env.makeUser("owner@bolt.test", role: .owner, tenant: "bolt")
            try await env.services.directory.reload()
            try await env.withApp { client throws in
                var owner = Browser(client, host: "bolt.vitrina.test")
                try await owner.signIn("owner@bolt.test", Self.password)
                #expect(try await owner.get("/admin").text.contains("/admin/domains"))
                try await owner.get("/admin/domains")
                // Bad input keeps what was typed and says what is wrong; nothing is stored.
                let bad = try await owner.post("/admin/domains", ["domain": "https://help.bolt.example/faq"])
                #expect(bad.status == .unprocessableContent && bad.text.contains("value=\"https://help.bolt.example/faq\""))
                let reserved = try await owner.post("/admin/domains", ["domain": "other.vitrina.test"])
                #expect(reserved.status == .unprocessableContent && reserved.text.contains("принадлежит самой установке"))
                #expect(try await owner.post("/admin/domains", ["domain": "help.bolt.example"]).status == .seeOther)
                let page = try await owner.get("/admin/domains")
                let token = try #require(
                    try await env.scalar(
                        "SELECT verification_token FROM platform.domains WHERE host = 'help.bolt.example'", as: String.self))
                #expect(page.text.contains("_domain-challenge.help.bolt.example") && page.text.contains(token))
                #expect(page.text.contains("Ждём DNS"))
                #expect(try await client.get("/internal/tls/allowed?domain=help.bolt.example", host: "127.0.0.1").status == .notFound)

                // "Check now" before the records exist: not verified, and the page says what was missing.
                #expect(try await owner.post("/admin/domains/help.bolt.example/check").status == .seeOther)
                let notYet = try await owner.get("/admin/domains")
                #expect(notYet.text.contains("пока не подтверждён") && notYet.text.contains("TXT-запись пока не найдена"))

                // The records appear in the DNS server; "check now" asks it through libresolv.
                try await dns.restart(records: [
                    "--txt-record=_domain-challenge.help.bolt.example,\(token)", "--cname=help.bolt.example,vitrina.test",
                ])
                #expect(try await owner.post("/admin/domains/help.bolt.example/check").status == .seeOther)
                let verified = try await owner.get("/admin/domains")
                #expect(
                    verified.text.contains("подтверждён и работает") && verified.text.contains("/admin/domains/help.bolt.example/primary"))
                #expect(
                    try await env.scalar("SELECT verified_by FROM platform.domains WHERE host = 'help.bolt.example'", as: String.self)
                        == "dns")
                #expect(try await client.get("/help", host: "help.bolt.example").status == .ok)
                #expect(try await client.get("/internal/tls/allowed?domain=help.bolt.example", host: "127.0.0.1").status == .ok)

                // Primary: the built-in address redirects there, keeping path and query; health and API paths do not.
                #expect(try await owner.post("/admin/domains/help.bolt.example/primary", ["primary": "1"]).status == .seeOther)
                let moved = try await client.get("/help?q=%D0%B4", host: "bolt.vitrina.test")
                #expect(moved.status == .permanentRedirect)
                #expect(moved.headers[.location] == "http://help.bolt.example/help?q=%D0%B4")
                #expect(try await client.get("/help", host: "help.bolt.example").status == .ok)
                #expect(try await client.get("/healthz", host: "bolt.vitrina.test").status == .ok)
                // The panel on the built-in address stays reachable (a broken primary domain must not lock the shop out).
                #expect(try await client.get("/admin/login", host: "bolt.vitrina.test").status == .ok)
                var there = Browser(client, host: "help.bolt.example")
                #expect(try await there.signIn("owner@bolt.test", Self.password).status == .seeOther)
                try await there.get("/admin/domains")
                #expect(try await there.post("/admin/domains/help.bolt.example/primary", ["primary": "0"]).status == .seeOther)
                #expect(try await client.get("/help", host: "bolt.vitrina.test").status == .ok)
                try await there.get("/admin/domains")
                #expect(try await there.post("/admin/domains/nope.example/remove").status == .notFound)
                try await there.get("/admin/domains")
                #expect(try await there.post("/admin/domains/help.bolt.example/remove").status == .conflict)
                try await owner.get("/admin/domains")
                #expect(try await owner.post("/admin/domains/help.bolt.example/remove").status == .seeOther)
                #expect(try await client.get("/help", host: "help.bolt.example").status == .notFound)
                let audit = try await owner.get("/admin/audit")
                #expect(
                    audit.text.contains("Добавлен домен") && audit.text.contains("Домен сделан основным")
                        && audit.text.contains("Удалён домен"))
            }
        }
    }

    @Test func theHTTPChallengeIsServedByTheInstallationAndVerifiesEndToEnd() async throws {
        try await TestEnvironment.with { env in
            let bolt = try await env.makeTenant("bolt")
            let nail = try await env.makeTenant("nail")
            try await env.services.directory.reload()
            try await env.withLiveApp { client, port throws in
                let store = DomainStore(
                    database: env.services.database,
                    verifier: DomainVerifier(
                        resolver: FakeDNS(),
                        fetcher: HTTPChallengeFetcher(
                            client: env.services.http.client, resolver: FakeDNS(), connectTo: ("127.0.0.1", port)),
                        cnameTarget: "vitrina.test"),
                    directory: env.services.directory, checkSpacing: .zero, logger: TestDatabase.logger)
                let domain = try await env.services.database.transaction {
                    try await store.add("help.bolt.example", owner: .tenant(bolt.id), on: $0)
                }.get()
                let other = try await env.services.database.transaction {
                    try await store.add("help.nail.example", owner: .tenant(nail.id), on: $0)
                }.get()
                let token = try #require(domain.token)
                // Served before the domain routes, only for its own host and token.
                let answer = try await client.get("/.well-known/domain-challenge/\(token)", host: "help.bolt.example")
                #expect(answer.status == .ok && answer.text == token)
                #expect(try await client.get("/.well-known/vitrina-challenge/\(token)", host: "help.bolt.example").text == token)
                #expect(try await client.get("/.well-known/domain-challenge/\(token)", host: "help.nail.example").status == .notFound)
                #expect(
                    try await client.get("/.well-known/domain-challenge/\(other.token ?? "")", host: "help.bolt.example").status
                        == .notFound)
                #expect(try await client.get("/help", host: "help.bolt.example").status == .notFound)

                // The verifier makes a real HTTP request to the server on loopback, as it would to the domain.
                let result = try await store.verify("help.bolt.example", owner: .tenant(bolt.id)).get()
                #expect(result.verified && result.method == "http" && !result.txtFound)
                #expect(try await store.find("help.bolt.example", owner: .tenant(bolt.id))?.verifiedBy == "http")
                try await Self.eventually { try await client.get("/help", host: "help.bolt.example").status == .ok }
                // A token is answered only on its own domain: asked on another, the check fails.
                let fetcher = HTTPChallengeFetcher(client: env.services.http.client, resolver: FakeDNS(), connectTo: ("127.0.0.1", port))
                #expect(await fetcher.fetch(host: "help.nail.example", path: "/.well-known/domain-challenge/\(token)") == nil)
                #expect(
                    await fetcher.fetch(host: "help.nail.example", path: "/.well-known/domain-challenge/\(other.token ?? "")")
                        == other.token)
            }
        }
    }

    /// Waits up to three seconds for `condition` (a change another instance learns through NOTIFY).
    static func eventually(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<60 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("condition not met within 3 s")
    }
}

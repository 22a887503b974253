import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@testable import App

/// What an audit of the white label and the HTTP edge found, each with the test that would have caught it.
@Suite("White label at the edges")
struct OperatorBrandTests {
    @Test func anEmailsSourceNamesNoProduct() throws {
        let message = MailMessage(
            from: MailAddress("noreply@north.example", name: "North"), to: [MailAddress("anna@acme.test")], subject: "Hello",
            text: "Text", html: "<p>HTML</p>")
        let source = message.rendered()
        #expect(source.contains("boundary=\"=_part_"))
        #expect(!source.lowercased().contains("vitrina"))
    }

    @Test func aBrandThatNeverSaidPoweredByDoesNotShowIt() {
        #expect(BrandView(Branding()).poweredBy == false)
        #expect(BrandView(Branding(poweredBy: true)).poweredBy == true)
    }

    /// A custom domain not verified yet and a deleted shop's address do not route; their 404 is their owner's.
    @Test func hostsThatDoNotRouteAnswerInTheirOwnersBranding() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", branding: Branding(name: "North Assist", primaryColor: "#0b5fff", poweredBy: false))
            let acme = try await env.makeTenant(
                "acme", partner: "north", branding: Branding(name: "Acme Tea", primaryColor: "#2e7d32", defaultLanguage: "en"))
            try await env.makeTenant("gone", branding: Branding(name: "Gone Shop", primaryColor: "#aa3300"))
            try await env.services.database.transaction { transaction in
                _ = try await env.services.domains.add("pending.acme.example", owner: .tenant(acme.id), on: transaction)
            }
            try await env.provisioner.perform(.delete, slug: "gone")
            try await env.withApp { client throws in
                let pending = try await client.get("/help", host: "pending.acme.example")
                #expect(pending.status == .notFound)
                #expect(pending.text.contains("Acme Tea") && pending.text.contains("--brand:#2e7d32"))
                #expect(pending.text.contains("lang=\"en\""))
                #expect(!pending.text.lowercased().contains("vitrina"))
                let deleted = try await client.get("/help", host: "gone.vitrina.test")
                #expect(deleted.status == .notFound)
                #expect(deleted.text.contains("Gone Shop") && deleted.text.contains("--brand:#aa3300"))
                #expect(!deleted.text.contains("<title>Страница не найдена · Vitrina"))
                let nobody = try await client.get("/help", host: "nobody.example")
                #expect(nobody.status == .notFound)
            }
        }
    }

    /// The operator brands the installation itself: its pages, the 404 of unknown hosts, and "powered by".
    @Test func theOperatorsBrandReplacesTheProductsEverywhereItShows() async throws {
        try await TestEnvironment.with { env in
            let yaml = """
                platform:
                  branding: {name: Hostly, primary_color: "#123456", support_url: "https://hostly.example/help"}
                partners:
                  - slug: south
                    name: South
                    domains: [panel.south.example]
                    branding: {powered_by: true}
                tenants:
                  - {slug: shop, name: Shop, partner: south}
                """
            var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
            let changes = try await env.services.manifestApplier(file: "t.yml").apply(try parser.parse(yaml), dryRun: false)
            #expect(changes.map(\.text).contains("platform: branding"))
            try await env.withApp { client throws in
                for (host, path) in [("vitrina.test", "/"), ("nobody.example", "/help"), ("vitrina.test", "/admin/login")] {
                    let page = try await client.get(path, host: host)
                    #expect(page.text.contains("Hostly") && page.text.contains("--brand:#123456"), "\(host)\(path)")
                    #expect(!page.text.contains("Vitrina"), "\(host)\(path)")
                }
                let shop = try await client.get("/help", host: "shop.vitrina.test").text
                #expect(shop.contains("Работает на Hostly") || shop.contains("Powered by Hostly"))
                #expect(!shop.contains("Vitrina"))
            }
            // A second run changes nothing; a bad platform key is refused with its path.
            #expect(try await env.services.manifestApplier(file: "t.yml").apply(try parser.parse(yaml), dryRun: false).isEmpty)
            var bad = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
            #expect(throws: ManifestError.self) { try bad.parse("platform:\n  branding: {powered_by: true}\n") }
        }
    }

    @Test func thePlatformPanelEditsTheOperatorsBrand() async throws {
        try await TestEnvironment.with { env in
            try await env.makeUser("ops@vitrina.test", role: .platformAdmin)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "vitrina.test")
                try await browser.signIn("ops@vitrina.test", "correct-horse-battery")
                #expect(try await browser.get("/admin/branding").status == .ok)
                let saved = try await browser.post("/admin/branding", ["name": "Hostly", "primary_color": "#334455", "intent": "save"])
                #expect(saved.status == .seeOther)
                try await env.services.directory.reload()
                let home = try await client.get("/", host: "vitrina.test").text
                #expect(home.contains("Hostly") && home.contains("--brand:#334455"))
                #expect(
                    try await env.scalar("SELECT count(*)::int FROM platform.audit_log WHERE action = 'branding.updated'", as: Int.self)
                        == 1)
            }
        }
    }

    /// RFC 9112: two `Host` headers, or none on HTTP/1.1, is a 400; so is an absolute target naming another host.
    @Test func anAmbiguousHostIsRefusedBeforeAnythingRoutesIt() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 1))
            try await env.makeTenant("bolt", articles: markedArticles(tenant: "bolt", count: 1))
            try await env.withLiveApp { _, port throws in
                func send(_ head: String) throws -> String { try RawHTTP.exchange(port: port, head + "\r\n") }
                let twice = try send("GET /help HTTP/1.1\r\nHost: acme.vitrina.test\r\nHost: bolt.vitrina.test\r\n")
                #expect(twice.hasPrefix("HTTP/1.1 400"))
                #expect(!twice.contains("[bolt#") && !twice.contains("[acme#"))
                #expect(try send("GET http://bolt.vitrina.test/help HTTP/1.1\r\nHost: acme.vitrina.test\r\n").hasPrefix("HTTP/1.1 400"))
                #expect(try send("GET /help HTTP/1.1\r\n").hasPrefix("HTTP/1.1 400"))
                let same = try send("GET http://acme.vitrina.test/help HTTP/1.1\r\nHost: acme.vitrina.test\r\nConnection: close\r\n")
                #expect(same.hasPrefix("HTTP/1.1 200") && same.contains("[acme#1]"))
                #expect(try send("GET /help HTTP/1.1\r\nHost: acme.vitrina.test\r\nConnection: close\r\n").hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    /// docs/CADDY.md's Caddyfile must let the HTTP domain check through: it asks over plain HTTP and follows no
    /// redirects, and an unverified domain has no certificate.
    @Test func theDocumentedProxyAnswersTheDomainChallengeOverPlainHTTP() throws {
        let doc = try String(contentsOfFile: TestDatabase.packageRoot + "/docs/CADDY.md", encoding: .utf8)
        let caddyfile = try #require(doc.components(separatedBy: "```caddyfile").dropFirst().first?.components(separatedBy: "```").first)
        let plain = try #require(caddyfile.components(separatedBy: "\nhttp:// {").dropFirst().first)
        let challenge = try #require(plain.range(of: "handle @challenge"))
        let redirect = try #require(plain.range(of: "redir https://"))
        #expect(challenge.lowerBound < redirect.lowerBound)
        for label in [DomainChallenge.neutralLabel, DomainChallenge.brandedLabel] {
            let prefix = DomainChallenge.path(label: label, token: "t").dropLast(1)
            #expect(plain.contains("path ") && plain.contains(prefix + "*"), "\(prefix)")
        }
        #expect(plain.components(separatedBy: "handle @challenge").last?.contains("reverse_proxy 127.0.0.1:8080") == true)
    }
}

/// One HTTP/1.1 exchange over a plain socket, as written (the test clients normalise headers).
enum RawHTTP {
    static func exchange(port: Int, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
            // One response is enough: stop at the end of a known-length body.
            let text = String(decoding: received, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n"),
                let lengthLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first(where: {
                    $0.lowercased().hasPrefix("content-length:")
                }),
                let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
                received.count >= text[..<headEnd.upperBound].utf8.count + length
            {
                break
            }
        }
        return String(decoding: received, as: UTF8.self)
    }
}

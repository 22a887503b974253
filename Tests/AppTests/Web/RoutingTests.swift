import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Routing by host")
struct RoutingTests {
    @Test func subdomainAndCustomDomainServeTheTenantsHelpCentre() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant(
                "acme", domains: ["help.acme.example"], branding: Branding(name: "Acme Help", primaryColor: "#123456"),
                articles: markedArticles(tenant: "acme", count: 3))
            try await env.withApp { client throws in
                for host in ["acme.vitrina.test", "help.acme.example"] {
                    let response = try await client.get("/help", host: host)
                    #expect(response.status == .ok)
                    #expect(response.text.contains("[acme#1]"))
                    #expect(response.text.contains("Acme Help"))
                    #expect(response.text.contains("--brand:#123456"))
                }
            }
        }
    }

    @Test func anEmptyHelpCentreSaysSoInItsBranding() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("empty", branding: Branding(name: "Empty Shop", primaryColor: "#335577", defaultLanguage: "en"))
            try await env.withApp { client throws in
                let response = try await client.get("/help", host: "empty.vitrina.test")
                #expect(response.status == .ok)
                #expect(response.text.contains("There are no articles yet."))
                #expect(response.text.contains("Empty Shop") && response.text.contains("--brand:#335577"))
            }
        }
    }

    @Test func hostWithPortUpperCaseAndTrailingDotIsNormalised() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 1))
            try await env.withApp { client throws in
                for host in ["ACME.Vitrina.Test:8080", "acme.vitrina.test.", "acme.VITRINA.test.:443"] {
                    let response = try await client.get("/help", host: host)
                    #expect(response.status == .ok, "host \(host)")
                    #expect(response.text.contains("[acme#1]"))
                }
            }
        }
    }

    @Test func unknownHostGetsNotFoundPageInPlatformBranding() async throws {
        try await TestEnvironment.with { env in
            try await env.withApp { client throws in
                let response = try await client.get("/help", host: "nobody.vitrina.test")
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(response.text.contains("404"))
                let root = try await client.get("/", host: "unrelated.example.org")
                #expect(root.status == .notFound)
            }
        }
    }

    @Test func suspendedTenantGetsServiceUnavailablePageInItsBranding() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("sleepy", branding: Branding(name: "Sleepy Shop", primaryColor: "#aa3300", defaultLanguage: "en"))
            try await env.provisioner.perform(.suspend, slug: "sleepy")
            try await env.withApp { client throws in
                let response = try await client.get("/help", host: "sleepy.vitrina.test")
                #expect(response.status == .serviceUnavailable)
                #expect(response.text.contains("Sleepy Shop"))
                #expect(response.text.contains("--brand:#aa3300"))
                #expect(response.text.contains("Temporarily unavailable"))
                #expect(response.headers[.retryAfter] != nil)
                #expect(!response.text.contains("Error reference"))  // nothing for the shopper to report
            }
        }
    }

    @Test func deletedTenantGetsNotFound() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("gone", domains: ["gone.example"], articles: markedArticles(tenant: "gone", count: 1))
            try await env.provisioner.perform(.delete, slug: "gone")
            try await env.withApp { client throws in
                #expect(try await client.get("/help", host: "gone.vitrina.test").status == .notFound)
                #expect(try await client.get("/help", host: "gone.example").status == .notFound)
            }
        }
    }

    @Test func forwardedHostIsIgnoredUnlessTheProxyIsTrusted() async throws {
        try await TestEnvironment.with(configure: { $0.trustProxy = false }) { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 1))
            try await env.withApp { client throws in
                // The router test client always says Host: localhost; without trust, that is what routes.
                let response = try await client.get("/help", host: "acme.vitrina.test")
                #expect(response.status == .notFound)
                #expect(!response.text.contains("[acme#1]"))
            }
        }
    }

    @Test func partnerPanelDomainAndPlatformHostAnswer() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner(
                "northwind", domains: ["panel.northwind.test"], branding: Branding(name: "Northwind Assist", defaultLanguage: "en"))
            try await env.withApp { client throws in
                let partner = try await client.get("/", host: "panel.northwind.test")
                #expect(partner.status == .ok)
                #expect(partner.text.contains("Northwind Assist"))
                #expect(!partner.text.contains("Vitrina"))
                let platform = try await client.get("/", host: "vitrina.test", headers: [.acceptLanguage: "en-GB,en;q=0.9"])
                #expect(platform.status == .ok)
                #expect(platform.text.contains("AI shop assistants"))
                #expect(try await client.get("/", host: "admin.vitrina.test").status == .ok)
                // Tenant routes do not exist on the platform's host.
                #expect(try await client.get("/help", host: "vitrina.test").status == .notFound)
            }
        }
    }

    @Test func tenantRootRedirectsToHelpAndUnknownArticleIsBrandedNotFound() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", branding: Branding(name: "Acme Help"), articles: markedArticles(tenant: "acme", count: 1))
            try await env.withApp { client throws in
                let root = try await client.get("/", host: "acme.vitrina.test")
                #expect(root.status == .found)
                #expect(root.headers[.location] == "/help")
                let missing = try await client.get("/help/no-such-article", host: "acme.vitrina.test")
                #expect(missing.status == .notFound)
                #expect(missing.text.contains("Acme Help"))
                let bad = try await client.get("/help/..%2F..%2Fetc", host: "acme.vitrina.test")
                #expect((400..<500).contains(bad.status.code))
            }
        }
    }

    @Test func everyHTMLResponseCarriesSecurityHeaders() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 1))
            try await env.withApp { client throws in
                for (path, host) in [
                    ("/help", "acme.vitrina.test"), ("/nope", "acme.vitrina.test"), ("/", "unknown.test"), ("/", "vitrina.test"),
                ] {
                    let response = try await client.get(path, host: host)
                    let csp = response.headers[.contentSecurityPolicy] ?? ""
                    #expect(csp.contains("frame-ancestors 'none'"), "\(host)\(path)")
                    #expect(!csp.contains("unsafe-inline"))
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] != nil)
                    #expect(response.headers[HTTPField.Name("Server")!] == nil)
                    // The one inline style carries the nonce the policy names.
                    if let nonce = csp.split(separator: "'").first(where: { $0.hasPrefix("nonce-") })?.dropFirst(6) {
                        #expect(response.text.contains("<style nonce=\"\(nonce)\">"))
                    }
                }
            }
        }
    }

    @Test func staticFilesHaveCacheHeaders() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.withApp { client throws in
                let css = try await client.get("/static/css/app.css?v=1", host: "acme.vitrina.test")
                #expect(css.status == .ok)
                #expect(css.headers[.cacheControl]?.contains("immutable") == true)
                let logo = try await client.get("/static/logos/acme-tea.svg", host: "acme.vitrina.test")
                #expect(logo.status == .ok)
                #expect(logo.headers[.cacheControl]?.contains("max-age=86400") == true)
            }
        }
    }

    @Test func healthAndReadinessAnswerJSONOnAnyHost() async throws {
        try await TestEnvironment.with { env in
            try await env.withApp { client throws in
                let health = try await client.execute(uri: "/healthz", method: .get)
                #expect(health.status == .ok)
                #expect(health.text == #"{"status":"ok"}"#)
                let ready = try await client.execute(uri: "/readyz", method: .get)
                #expect(ready.status == .ok)
                #expect(ready.headers[.contentType] == "application/json")
                #expect(ready.text.contains(#""status":"ready""#))
            }
        }
    }

    @Test func directoryChangesReachARunningInstanceWithinASecond() async throws {
        try await TestEnvironment.with { env in
            try await env.withApp { client throws in
                #expect(try await client.get("/help", host: "late.vitrina.test").status == .notFound)
                // Another "process": the test's own pool, not the app's.
                try await env.makeTenant("late", articles: markedArticles(tenant: "late", count: 1))
                let deadline = ContinuousClock.now + .seconds(1)
                var status = HTTPResponse.Status.notFound
                while ContinuousClock.now < deadline {
                    status = try await client.get("/help", host: "late.vitrina.test").status
                    if status == .ok { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(status == .ok)
            }
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("Branding: inheritance, custom CSS, no platform name")
struct WhiteLabelTests {
    @Test func eachLevelOverridesOnlyWhatItSetsAndAPartnerMayForbidRebranding() {
        let partner = Branding.forPartner(
            Branding(primaryColor: "#0b5fff", customCSS: ".a{color:red}", supportEmail: "help@north.example", poweredBy: false),
            partnerName: "North")
        #expect(partner.name == "North")
        #expect(partner.defaultLanguage == "ru")
        #expect(partner.primaryColor == "#0b5fff" && partner.poweredBy == false)
        let tenant = Branding.forTenant(
            Branding(name: "Acme", primaryColor: "#2e7d32", defaultLanguage: "en", customCSS: ".b{color:blue}", poweredBy: true),
            partner: partner)
        #expect(tenant.name == "Acme" && tenant.primaryColor == "#2e7d32" && tenant.defaultLanguage == "en")
        #expect(tenant.supportEmail == "help@north.example")
        #expect(tenant.customCSS == ".a{color:red}\n.b{color:blue}")
        #expect(tenant.poweredBy == false)  // the partner's choice, not the tenant's

        var strict = partner
        strict.allowTenantBranding = false
        let locked = Branding.forTenant(Branding(name: "Acme", primaryColor: "#2e7d32", defaultLanguage: "en"), partner: strict)
        #expect(locked.name == "Acme" && locked.primaryColor == "#0b5fff")
        #expect(locked.defaultLanguage == "en")
        #expect(Branding.forTenant(Branding(), partner: .productDefault).poweredBy == false)
        #expect(Branding.forTenant(Branding(), partner: partner, shopName: "Shop").name == "Shop")
    }

    @Test func customCSSIsRefusedWhenItCouldEscapeOrLoadAnything() {
        #expect(CustomCSS.problem(".card { border-radius: 4px; background: url(https://cdn.example/bg.png) }") == nil)
        for bad in [
            "</style><script>alert(1)</script>", "@import url(https://evil.example/x.css);", "a { width: expression(alert(1)) }",
            "a { background: url(javascript:alert(1)) }", "a { background: url(/local.png) }", "@\\69mport 'x';",
            "a { -moz-binding: url(https://x) }", "@imp/**/ort url(x)", String(repeating: "a{}", count: 8000),
        ] {
            #expect(CustomCSS.problem(bad) != nil, "\(bad.prefix(40))")
        }
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        #expect(throws: ManifestError.self) {
            try parser.parse("partners:\n  - {slug: north, name: North, branding: {custom_css: \"@import url(x);\"}}\n")
        }
        var tenantLevel = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        #expect(throws: ManifestError.self) {
            try tenantLevel.parse("tenants:\n  - {slug: acme, name: Acme, branding: {powered_by: false}}\n")
        }
    }

    @Test func contrastWarningsFlagUnreadableColours() {
        #expect(BrandView.contrastWarnings(Branding(primaryColor: "#ffff66")).contains("brand_warning_primary_on_white"))
        #expect(BrandView.contrastWarnings(Branding(primaryColor: "#1d4ed8")).isEmpty)
        #expect(BrandView.contrastWarnings(Branding(primaryColor: "#1d4ed8", accentColor: "#fde047")) == ["brand_warning_accent_on_white"])
    }

    /// Everything a partner's tenant users and shoppers can reach, scanned for the platform's name with "powered by" off.
    /// The installation is set up as a white-label operator would: its own domain and CNAME target name no product
    /// (the scan would otherwise find the test installation's `vitrina.test` in the shops' built-in addresses).
    @Test func withPoweredByOffNoPageEmailOrHeaderNamesThePlatform() async throws {
        try await TestEnvironment.with(configure: {
            $0.baseDomain = "shops.example"
            $0.cnameTarget = "edge.shops.example"
        }) { env in
            let yaml = """
                partners:
                  - slug: north
                    name: North Digital
                    domains: [panel.north.example]
                    branding: {name: North Assist, primary_color: "#0B5FFF", powered_by: false, support_url: "https://north.example/help",
                      custom_css: ".site-header { border-bottom-width: 3px }"}
                    admins: [{email: olivia@north.example, role: owner, password_env: PASSWORD}]
                  - slug: south
                    name: South
                    domains: [panel.south.example]
                    branding: {powered_by: true}
                tenants:
                  - slug: acme
                    name: Acme Tea
                    partner: north
                    domains: [shop.acme.example]
                    help_articles: [{slug: delivery, title: Доставка, body: "Курьером по Москве."}]
                    admins:
                      - {email: anna@acme.example, role: owner, password_env: PASSWORD}
                      - {email: vera@acme.example, role: viewer, password_env: PASSWORD}
                  - {slug: closed, name: Closed, partner: north, status: suspended, domains: [closed.acme.example]}
                  - {slug: southshop, name: South Shop, partner: south, domains: [shop.south.example]}
                """
            var parser = ManifestParser(file: "t.yml", baseDomain: "shops.example")
            let applier = env.services.manifestApplier(file: "t.yml", environment: ["PASSWORD": "tea-leaves-2026"])
            _ = try await applier.apply(try parser.parse(yaml), dryRun: false)
            try await env.withApp { client throws in
                var seen: [(String, TestResponse)] = []
                var shopper = Browser(client, host: "shop.acme.example")
                for path in [
                    "/", "/help", "/help/delivery", "/help?q=курьер", "/help/nope", "/brand.css", "/favicon.ico",
                    // JSON errors: the API's problem documents (no key, an unknown route) and its description.
                    "/api/v1/tenants", "/api/v1/nope", "/api/v1/openapi.json",
                    // The chat widget a storefront embeds: its loader, its frame, its API's refusal without a visitor.
                    "/widget.js", "/widget/frame", "/widget/api/conversation",
                ] {
                    seen.append((path, try await shopper.get(path)))
                }
                #expect(seen.contains { $0.0 == "/api/v1/tenants" && $0.1.status == .unauthorized })
                #expect(seen.contains { $0.0 == "/widget.js" && $0.1.status == .ok && $0.1.text.contains("SiteChat") })
                #expect(seen.contains { $0.0 == "/widget/api/conversation" && $0.1.status == .unauthorized })
                var closed = Browser(client, host: "closed.acme.example")
                seen.append(("503", try await closed.get("/help")))
                var owner = Browser(client, host: "shop.acme.example")
                for path in ["/admin/login", "/admin/forgot", "/admin/reset?token=x", "/admin/invite?token=x"] {
                    seen.append((path, try await owner.get(path)))
                }
                seen.append(("sign-in", try await owner.signIn("anna@acme.example", "tea-leaves-2026")))
                for path in [
                    "/admin", "/admin/articles", "/admin/articles/new", "/admin/articles/1", "/admin/team", "/admin/profile",
                    "/admin/audit", "/admin/nope", "/admin/branding", "/admin/domains", "/admin/inbox", "/admin/inbox/settings",
                    "/admin/bot",
                ] {
                    seen.append((path, try await owner.get(path)))
                }
                // A domain waiting for its DNS records: the instructions name no platform either.
                seen.append(("add domain", try await owner.post("/admin/domains", ["domain": "help.acme-tea.example"])))
                seen.append(("domains", try await owner.get("/admin/domains")))
                #expect(seen.last?.1.text.contains("_domain-challenge.help.acme-tea.example") == true)
                #expect(seen.last?.1.text.contains("edge.shops.example") == true)
                try await owner.get("/admin/team")
                seen.append(("invite", try await owner.post("/admin/team/invite", ["email": "new@acme.example", "role": "operator"])))
                seen.append(
                    ("csrf", try await owner.post("/admin/team/invite", ["email": "x@acme.example", "role": "viewer"], csrf: "wrong")))
                var viewer = Browser(client, host: "shop.acme.example")
                try await viewer.signIn("vera@acme.example", "tea-leaves-2026")
                seen.append(("403", try await viewer.get("/admin/audit")))
                var forgot = Browser(client, host: "shop.acme.example")
                try await forgot.get("/admin/forgot")
                seen.append(("forgot", try await forgot.post("/admin/forgot", ["email": "anna@acme.example"])))
                var attacker = Browser(client, host: "shop.acme.example")
                for attempt in 1...5 { seen.append(("429", try await attacker.signIn("anna@acme.example", "wrong-\(attempt)"))) }
                var partner = Browser(client, host: "panel.north.example")
                seen.append(("partner login", try await partner.get("/admin/login")))
                try await partner.signIn("olivia@north.example", "tea-leaves-2026")
                seen.append(("partner", try await partner.get("/admin")))
                seen.append(("partner audit", try await partner.get("/admin/audit")))

                #expect(seen.contains { $0.0 == "429" && $0.1.status == .tooManyRequests })
                #expect(seen.contains { $0.0 == "403" && $0.1.status == .forbidden })
                #expect(seen.contains { $0.0 == "503" && $0.1.status == .serviceUnavailable })
                #expect(seen.contains { $0.0 == "/help/nope" && $0.1.status == .notFound })
                for (what, response) in seen {
                    #expect(!response.text.lowercased().contains("vitrina"), "\(what): the page names the platform")
                    for field in response.headers {
                        let header = (field.name.rawName + ": " + field.value).lowercased()
                        #expect(!header.contains("vitrina"), "\(what): header \(header)")
                    }
                }
                let help = try #require(seen.first { $0.0 == "/help" }?.1)
                #expect(help.text.contains("North Assist") == false && help.text.contains("Acme Tea"))
                #expect(help.text.contains("https://north.example/help"))
                #expect(help.text.contains("/brand.css?v="))
                let css = try #require(seen.first { $0.0 == "/brand.css" }?.1)
                #expect(css.status == .ok && css.text.contains("border-bottom-width: 3px"))
                let mails = try await env.client.query(
                    "SELECT subject || text_body || coalesce(html_body, '') || coalesce(from_name, '') FROM platform.outbox",
                    logger: TestDatabase.logger)
                var count = 0
                for try await (mail) in mails.decode(String.self) {
                    count += 1
                    #expect(!mail.lowercased().contains("vitrina"), "an e-mail names the platform")
                }
                #expect(count == 2)

                // The same scan fails where "powered by" is on: it would catch a leak.
                var south = Browser(client, host: "shop.south.example")
                #expect(try await south.get("/help").text.contains("Vitrina"))
            }
        }
    }
}

extension WhiteLabelTests {
    @Test func fontStacksSurviveHTMLEscapingInsideTheStyleElement() {
        for (name, stack) in Branding.fonts {
            #expect(!stack.contains("\"") && !stack.contains("'") && !stack.contains("<") && !stack.contains("&"), "\(name)")
        }
    }
}

extension WhiteLabelTests {
    @Test func aPartnersThemeFramesItsShopsPagesAndPanels() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.test"], branding: Branding(theme: "topbar"))
            try await env.makePartner("south", domains: ["panel.south.test"])
            try await env.makeTenant("acme", partner: "north", articles: markedArticles(tenant: "acme", count: 1))
            try await env.makeTenant("bolt", partner: "south", articles: markedArticles(tenant: "bolt", count: 1))
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                let themed = try await client.get("/help", host: "acme.vitrina.test")
                #expect(themed.text.contains("class=\"theme-topbar\"") && themed.text.contains("[acme#1]"))
                let plain = try await client.get("/help", host: "bolt.vitrina.test")
                #expect(!plain.text.contains("theme-topbar") && plain.text.contains("[bolt#1]"))
                var browser = Browser(client, host: "acme.vitrina.test")
                #expect(try await browser.get("/admin/login").text.contains("auth-split"))
                try await browser.signIn("anna@acme.test", "correct-horse-battery")
                let panel = try await browser.get("/admin/articles")
                #expect(panel.text.contains("topbar-nav") && panel.text.contains("[acme#1]"))
                #expect(try await client.get("/nope", host: "acme.vitrina.test").text.contains("theme-topbar"))
            }
        }
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        #expect(throws: ManifestError.self) { try parser.parse("partners:\n  - {slug: north, name: North, branding: {theme: nope}}\n") }
        var tenantTheme = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        #expect(throws: ManifestError.self) { try tenantTheme.parse("tenants:\n  - {slug: acme, name: Acme, branding: {theme: topbar}}\n") }
    }
}

extension WhiteLabelTests {
    @Test func caddysAskEndpointAllowsOnlyHostsThatRoute() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.test"])
            try await env.makeTenant("acme", partner: "north", domains: ["shop.acme.test"])
            try await env.makeTenant("gone")
            _ = try await env.provisioner.perform(.delete, slug: "gone")
            // A domain added but not verified yet neither routes nor gets a certificate.
            let acme = try #require(try await env.provisioner.lookup(slug: "acme"))
            try await env.client.query(
                "INSERT INTO platform.domains (host, tenant_id) VALUES ('pending.acme.test', \(acme))", logger: TestDatabase.logger)
            try await env.withApp { client throws in
                func ask(_ domain: String) async throws -> HTTPResponse.Status {
                    try await client.execute(
                        uri: "/internal/tls/allowed?domain=" + domain, method: .get, headers: [:], body: nil
                    ).status
                }
                for host in ["shop.acme.test", "SHOP.ACME.TEST.", "acme.vitrina.test", "panel.north.test", "vitrina.test"] {
                    #expect(try await ask(host) == .ok, "\(host)")
                }
                for host in ["pending.acme.test", "gone.vitrina.test", "evil.example", "nobody.vitrina.test"] {
                    #expect(try await ask(host) == .notFound, "\(host)")
                }
                #expect(try await ask("") == .badRequest)
                #expect(try await client.get("/help", host: "pending.acme.test").status == .notFound)
                #expect(try await client.get("/help", host: "shop.acme.test").status == .ok)
            }
        }
    }
}

extension WhiteLabelTests {
    @Test func theBrandingEditorPreviewsWarnsSavesAndRespectsThePartnersLock() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner(
                "north", domains: ["panel.north.test"], branding: Branding(name: "North Assist", primaryColor: "#0b5fff"))
            try await env.makeTenant("acme", partner: "north", articles: markedArticles(tenant: "acme", count: 1))
            try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            try await env.services.directory.reload()
            try await env.withApp { client throws in
                var partner = Browser(client, host: "panel.north.test")
                try await partner.signIn("olivia@north.test", "correct-horse-battery")
                let form = try await partner.get("/admin/branding")
                #expect(form.status == .ok && form.text.contains("value=\"#0b5fff\""))
                // Bad input: errors beside the fields, what was typed kept, nothing saved.
                let bad = try await partner.post(
                    "/admin/branding",
                    ["name": "North", "primary_color": "blue", "custom_css": "@import url(x);", "support_url": "http://x"])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.text.contains("value=\"blue\"") && bad.text.contains("#RRGGBB") && bad.text.contains("https://"))
                // Preview: the unsaved colour in the preview, a contrast warning, nothing saved.
                let preview = try await partner.post(
                    "/admin/branding", ["name": "North", "primary_color": "#ffee58", "intent": "preview", "allow_tenant_branding": "on"])
                #expect(preview.status == .ok)
                #expect(preview.text.contains("--pv-brand:#ffee58") && preview.text.contains("WCAG"))
                #expect(try await client.get("/help", host: "acme.vitrina.test").text.contains("--brand:#0b5fff"))
                // Save: every page of the partner's shops takes it at once.
                let saved = try await partner.post(
                    "/admin/branding", ["name": "North", "primary_color": "#6a1b9a", "font": "serif", "allow_tenant_branding": "on"])
                #expect(saved.status == .seeOther)
                let help = try await client.get("/help", host: "acme.vitrina.test").text
                #expect(help.contains("--brand:#6a1b9a") && help.contains("Charter"))

                // The shop's owner may rebrand while the partner allows it; an operator may not.
                var owner = Browser(client, host: "acme.vitrina.test")
                try await owner.signIn("anna@acme.test", "correct-horse-battery")
                #expect(try await owner.get("/admin/branding").status == .ok)
                #expect(try await owner.post("/admin/branding", ["primary_color": "#2e7d32"]).status == .seeOther)
                #expect(try await client.get("/help", host: "acme.vitrina.test").text.contains("--brand:#2e7d32"))
                var operatorBrowser = Browser(client, host: "acme.vitrina.test")
                try await operatorBrowser.signIn("oleg@acme.test", "correct-horse-battery")
                #expect(try await operatorBrowser.get("/admin/branding").status == .forbidden)

                // The partner locks its shops' branding: the shop's own colour no longer shows, and its editor is closed.
                try await partner.get("/admin/branding")
                #expect(try await partner.post("/admin/branding", ["name": "North", "primary_color": "#6a1b9a"]).status == .seeOther)
                #expect(try await client.get("/help", host: "acme.vitrina.test").text.contains("--brand:#6a1b9a"))
                let locked = try await owner.get("/admin/branding")
                #expect(locked.status == .forbidden)
                #expect(!(try await owner.get("/admin").text.contains("/admin/branding")))
            }
        }
    }
}

import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

/// Usage: the shop's page with its 80 % warning and its own token cap, the agency's table and CSV, the usage API, and
/// the warning e-mail queued once when a shop's tokens cross 80 % of its limit.
@Suite struct UsageTests {
    static let password = "tea-leaves-2026"

    static let yaml = """
        partners:
          - slug: north
            name: North Digital
            domains: [panel.north.example]
            admins: [{email: olivia@north.example, role: owner, password_env: PASSWORD}]
            plans:
              - {slug: tiny, name: Tiny, messages_per_month: 1000, llm_tokens_per_month: 10000}
          - slug: south
            name: South Agency
            domains: [panel.south.example]
            admins: [{email: sam@south.example, role: owner, password_env: PASSWORD}]
            plans: [{slug: other, name: Other, llm_tokens_per_month: 5000}]
        tenants:
          - slug: acme
            name: Acme
            partner: north
            plan: tiny
            admins:
              - {email: anna@acme.example, role: owner, password_env: PASSWORD}
              - {email: adam@acme.example, role: admin, password_env: PASSWORD}
              - {email: otto@acme.example, role: operator, password_env: PASSWORD}
          - {slug: evil, name: "=HYPERLINK(\\"http://x.example\\")", partner: north, plan: tiny}
          - {slug: southshop, name: South Shop, partner: south, plan: other, llm_token_cap: 4000}
        """

    static let thisMonth = UsageMonth(containing: Date())

    func setUp(_ env: TestEnvironment) async throws {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        let applier = env.services.manifestApplier(file: "t.yml", environment: ["PASSWORD": Self.password])
        _ = try await applier.apply(try parser.parse(Self.yaml), dryRun: false)
        try await env.services.directory.reload()
    }

    /// Sets a shop's counts for a month.
    func use(
        _ env: TestEnvironment, _ slug: String, month: UsageMonth = thisMonth, messages: Int, calls: Int, prompt: Int, completion: Int
    )
        async throws
    {
        let id = try #require(try await env.provisioner.lookup(slug: slug))
        try await env.services.database.execute(
            """
            INSERT INTO platform.message_usage (tenant_id, month, messages, llm_calls, llm_prompt_tokens, llm_completion_tokens)
            VALUES (\(id), \(month.text + "-01")::date, \(messages), \(calls), \(prompt), \(completion))
            ON CONFLICT (tenant_id, month) DO UPDATE SET messages = EXCLUDED.messages, llm_calls = EXCLUDED.llm_calls,
                llm_prompt_tokens = EXCLUDED.llm_prompt_tokens, llm_completion_tokens = EXCLUDED.llm_completion_tokens
            """)
    }

    @Test func monthsAreReadStrictlyAndCountBack() {
        #expect(UsageMonth("2026-12")?.text == "2026-12")
        for bad in ["2026-13", "2026-1", "26-01", "2026-00", "2026/12", "", "２０２６-12", "2026-12-01"] { #expect(UsageMonth(bad) == nil) }
        let month = UsageMonth("2026-02")!
        #expect(month.back(2).text == "2025-12" && month.back(-11).text == "2027-01" && month.lastTwelve.last?.text == "2025-03")
        #expect(month.nextFirst(language: "ru") == "1 марта" && month.nextFirst(language: "en") == "1 March")
        #expect(UsageCSV.text("=1+2") == "'=1+2" && UsageCSV.text("-5") == "'-5" && UsageCSV.text("@x") == "'@x")
        #expect(UsageCSV.text("a,\"b\"") == "\"a,\"\"b\"\"\"" && UsageCSV.text("Acme") == "Acme")
    }

    @Test func theShopPageShowsThisMonthWarnsAt80PercentAndTheCapIsValidatedAndAudited() async throws {
        try await TestEnvironment.with { env in
            try await setUp(env)
            try await use(env, "acme", messages: 42, calls: 7, prompt: 6000, completion: 2100)
            try await use(env, "acme", month: Self.thisMonth.back(1), messages: 5, calls: 1, prompt: 300, completion: 33)
            try await env.withApp { client throws in
                var owner = Browser(client, host: "acme.vitrina.test")
                try await owner.signIn("anna@acme.example", Self.password)
                let page = try await owner.get("/admin/usage")
                #expect(page.status == .ok)
                let nbsp = "\u{202F}"
                #expect(page.text.contains("8\(nbsp)100") && page.text.contains("10\(nbsp)000") && page.text.contains(">42<"))
                #expect(page.text.contains("Израсходовано 81\(nbsp)% токенов языковой модели этого месяца"))
                #expect(page.text.contains("usage-warning") && !page.text.contains("приостановлена"))
                #expect(page.text.contains(">333<") && page.text.contains("value=\"81\""))
                #expect(page.text.contains("href=\"/admin/usage\""))
                let dashboard = try await owner.get("/admin")
                #expect(dashboard.text.contains("Израсходовано 81\(nbsp)%") && dashboard.text.contains("href=\"/admin/usage\""))

                // The cap: above the plan, not a number, without the form's token.
                try await owner.get("/admin/usage")
                let above = try await owner.post("/admin/usage/cap", ["cap": "20000"])
                #expect(above.status == .unprocessableContent && above.text.contains("не может быть больше лимита тарифа — 10\(nbsp)000"))
                #expect(above.text.contains("value=\"20000\""))
                #expect(try await owner.post("/admin/usage/cap", ["cap": "-5"]).status == .unprocessableContent)
                #expect(try await owner.post("/admin/usage/cap", ["cap": "lots"]).status == .unprocessableContent)
                #expect(try await owner.post("/admin/usage/cap", ["cap": "5000"], csrf: "").status == .forbidden)
                let acmeID = try #require(try await env.provisioner.lookup(slug: "acme"))
                #expect(
                    try await env.scalar("SELECT llm_token_cap::int8 FROM platform.tenants WHERE id = \(acmeID)", as: Int?.self)
                        == .some(nil))

                // A cap below what was used: the page says the model is paused until the 1st.
                try await owner.get("/admin/usage")
                #expect(try await owner.post("/admin/usage/cap", ["cap": "8 000"]).status == .seeOther)
                #expect(try await env.scalar("SELECT llm_token_cap::int8 FROM platform.tenants WHERE id = \(acmeID)", as: Int.self) == 8000)
                let paused = try await owner.get("/admin/usage")
                let next = Self.thisMonth.nextFirst(language: "ru")
                #expect(paused.text.contains("языковая модель приостановлена до \(next)") && paused.text.contains("usage-paused"))
                #expect(paused.text.contains("Ваш лимит токенов теперь 8\(nbsp)000"))
                #expect(try await owner.get("/admin").text.contains("приостановлена до \(next)"))
                let audited = try await env.scalar(
                    """
                    SELECT details->>'to' FROM platform.audit_log
                    WHERE action = 'tenant.token_cap_changed' AND tenant_id = \(acmeID) AND actor_email = 'anna@acme.example'
                    """, as: String.self)
                #expect(audited == "8000")
                #expect(try await owner.get("/admin/audit").text.contains("Изменён лимит токенов магазина"))
                try await owner.get("/admin/usage")
                #expect(try await owner.post("/admin/usage/cap", ["cap": ""]).status == .seeOther)
                #expect(
                    try await env.scalar("SELECT llm_token_cap::int8 FROM platform.tenants WHERE id = \(acmeID)", as: Int?.self)
                        == .some(nil))

                // An operator sees neither the page nor the form.
                var operatorBrowser = Browser(client, host: "acme.vitrina.test")
                try await operatorBrowser.signIn("otto@acme.example", Self.password)
                #expect(try await operatorBrowser.get("/admin/usage").status == .forbidden)
                #expect(!(try await operatorBrowser.get("/admin").text.contains("href=\"/admin/usage\"")))
            }
        }
    }

    @Test func theAgencyTableListsOnlyItsShopsAndItsCSVIsSafe() async throws {
        try await TestEnvironment.with { env in
            try await setUp(env)
            try await use(env, "acme", messages: 42, calls: 7, prompt: 6000, completion: 2100)
            try await use(env, "evil", messages: 3, calls: 1, prompt: 100, completion: 20)
            try await use(env, "southshop", messages: 9, calls: 2, prompt: 700, completion: 100)
            try await env.makeUser("root@platform.test", password: Self.password, role: .platformAdmin)
            try await env.withApp { client throws in
                var north = Browser(client, host: "panel.north.example")
                try await north.signIn("olivia@north.example", Self.password)
                let table = try await north.get("/admin/usage/shops")
                #expect(table.status == .ok)
                #expect(table.text.contains(">Acme<") && table.text.contains("=HYPERLINK(&quot;http://x.example&quot;)"))
                #expect(!table.text.contains("South Shop") && table.text.contains("81\u{202F}%"))
                #expect(table.text.contains(">45<") && table.text.contains(">8\u{202F}220<"))  // totals: messages and tokens
                #expect(try await north.get("/admin/usage/shops?month=2026-13").status == .badRequest)
                let earlier = try await north.get("/admin/usage/shops?month=\(Self.thisMonth.back(3).text)")
                #expect(earlier.status == .ok && !earlier.text.contains(">8\u{202F}100<"))

                let csv = try await north.get("/admin/usage/shops.csv?month=\(Self.thisMonth.text)")
                #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(csv.headers[.contentDisposition] == "attachment; filename=\"usage-north-\(Self.thisMonth.text).csv\"")
                #expect(!csv.text.lowercased().contains("vitrina"))
                let lines = csv.text.replacingOccurrences(of: "\u{FEFF}", with: "").split(separator: "\r\n").map(String.init)
                #expect(
                    lines.first
                        == "shop,name,plan,messages,llm_calls,prompt_tokens,completion_tokens,total_tokens,token_limit,share_used_percent")
                #expect(lines.contains("acme,Acme,Tiny,42,7,6000,2100,8100,10000,81.0"))
                #expect(lines.contains("evil,\"'=HYPERLINK(\"\"http://x.example\"\")\",Tiny,3,1,100,20,120,10000,1.2"))
                #expect(lines.count == 3)

                var south = Browser(client, host: "panel.south.example")
                try await south.signIn("sam@south.example", Self.password)
                let southTable = try await south.get("/admin/usage/shops")
                #expect(southTable.text.contains("South Shop") && !southTable.text.contains(">Acme<"))
                let southCSV = try await south.get("/admin/usage/shops.csv")
                #expect(southCSV.text.contains("southshop,South Shop,Other,9,2,700,100,800,4000,20.0") && !southCSV.text.contains("acme"))
                // A shop's panel has no such page.
                var owner = Browser(client, host: "acme.vitrina.test")
                try await owner.signIn("anna@acme.example", Self.password)
                #expect(try await owner.get("/admin/usage/shops").status == .notFound)

                var root = Browser(client, host: "admin.vitrina.test")
                try await root.signIn("root@platform.test", Self.password)
                let everyone = try await root.get("/admin/usage/shops")
                #expect(everyone.text.contains("South Shop") && everyone.text.contains(">Acme<") && everyone.text.contains("North Digital"))
                let one = try await root.get("/admin/usage/shops?agency=south")
                #expect(one.text.contains("South Shop") && !one.text.contains(">Acme<"))
                let oneCSV = try await root.get("/admin/usage/shops.csv?agency=south&month=\(Self.thisMonth.text)")
                #expect(oneCSV.headers[.contentDisposition] == "attachment; filename=\"usage-south-\(Self.thisMonth.text).csv\"")
                #expect(try await root.get("/admin/usage/shops?agency=nobody").status == .notFound)
            }
        }
    }

    @Test func theAPIFiltersByMonthAndKeepsShopsApart() async throws {
        try await TestEnvironment.with { env in
            try await setUp(env)
            try await use(env, "acme", messages: 42, calls: 7, prompt: 6000, completion: 2100)
            try await use(env, "acme", month: Self.thisMonth.back(1), messages: 5, calls: 1, prompt: 300, completion: 33)
            try await use(env, "southshop", messages: 9, calls: 2, prompt: 700, completion: 70)
            let northKey = try await env.partnerKey("north")
            let southShopKey = try await env.tenantKey("southshop")
            try await env.withApp { client throws in
                let north = APIClient(client, token: northKey)
                let now = try await north.get("/api/v1/usage")
                #expect(now.status == .ok && now.object["month"] as? String == Self.thisMonth.text)
                #expect(Set(now.items.compactMap { $0["tenant"] as? String }) == ["acme", "evil"])
                let acme = try #require(now.items.first { $0["tenant"] as? String == "acme" })
                #expect(acme["llm_tokens"] as? Int == 8100 && acme["llm_token_limit"] as? Int == 10000 && acme["messages"] as? Int == 42)
                #expect(acme["llm_paused"] as? Bool == false && acme["plan"] as? String == "tiny" && acme["llm_token_cap"] is NSNull)
                let before = try await north.get("/api/v1/usage?month=\(Self.thisMonth.back(1).text)")
                let earlier = try #require(before.items.first { $0["tenant"] as? String == "acme" })
                #expect(earlier["llm_tokens"] as? Int == 333 && earlier["messages"] as? Int == 5)
                #expect(try await north.get("/api/v1/usage?month=2026-13").isProblem("invalid-parameter", .badRequest))
                #expect(try await north.get("/api/v1/usage?month=december").isProblem("invalid-parameter", .badRequest))

                let shop = try await APIClient(client, token: southShopKey).get("/api/v1/usage")
                #expect(shop.items.count == 1 && shop.items.first?["tenant"] as? String == "southshop")
                #expect(shop.items.first?["llm_token_limit"] as? Int == 4000 && shop.items.first?["llm_token_cap"] as? Int == 4000)

                // The cap through the API: ≥ 0 and not above the plan; null clears it; audited.
                #expect(
                    try await north.call(.patch, "/api/v1/tenants/acme", json: #"{"llm_token_cap": -1}"#).status == .unprocessableContent)
                let above = try await north.call(.patch, "/api/v1/tenants/acme", json: #"{"llm_token_cap": 20000}"#)
                #expect(above.isProblem("validation", .unprocessableContent) && above.problemFields == ["llm_token_cap"])
                let set = try await north.call(.patch, "/api/v1/tenants/acme", json: #"{"llm_token_cap": 9000}"#)
                #expect(set.status == .ok && set.object["llm_token_cap"] as? Int == 9000 && set.object["name"] as? String == "Acme")
                #expect(try await north.call(.patch, "/api/v1/tenants/southshop", json: #"{"llm_token_cap": 1}"#).status == .notFound)
                let cleared = try await north.call(.patch, "/api/v1/tenants/acme", json: #"{"llm_token_cap": null}"#)
                #expect(cleared.status == .ok && cleared.object["llm_token_cap"] is NSNull)
                #expect(
                    try await env.scalar(
                        "SELECT count(*)::int FROM platform.audit_log WHERE action = 'tenant.token_cap_changed'", as: Int.self)
                        == 2)
            }
        }
    }

    @Test func crossing80PercentQueuesOneWarningWhichIsMailedInTheAgencysBrand() async throws {
        try await TestEnvironment.with { env in
            try await setUp(env)
            try await env.services.database.execute("UPDATE platform.users SET language = 'en' WHERE email = 'adam@acme.example'")
            let tenant = try #require(env.services.directory.snapshot.tenantsBySlug["acme"])
            let scope = tenant.scope
            func count(_ prompt: Int, _ completion: Int) async throws {
                try await env.withTenant(scope) { connection in
                    try await BotEngine.count(TokenUsage(prompt: prompt, completion: completion), tenant: tenant, on: connection)
                }
            }
            func jobs() async throws -> Int {
                try await env.scalar("SELECT count(*)::int FROM platform.jobs WHERE kind = 'usage.warning'", as: Int.self) ?? -1
            }
            try await count(5000, 2000)
            #expect(try await jobs() == 0)
            try await count(900, 100)  // 8 000 of 10 000: crossed
            #expect(try await jobs() == 1)
            try await count(500, 500)
            try await count(2000, 0)  // past the limit: still the one warning this month
            #expect(try await jobs() == 1)
            #expect(try await env.scalar("SELECT count(*)::int FROM platform.usage_warnings", as: Int.self) == 1)
            let payload = try #require(
                try await env.scalar("SELECT payload::text FROM platform.jobs WHERE kind = 'usage.warning'", as: String.self))
            let job = try JSONDecoder().decode(SendUsageWarning.self, from: Data(payload.utf8))
            #expect(job.month == Self.thisMonth.text && job.level == 80)
            #expect(env.services.jobRegistry.handlers[SendUsageWarning.kind] != nil)

            // The job's e-mails: the owner and the admin (each in their language), not the operator; no platform name.
            let warnings = UsageWarnings(
                database: env.services.database, outbox: env.services.outbox, renderer: env.services.renderer,
                origin: Origin(isSecure: true, authority: ""))
            try await warnings.send(job, tenant: tenant, host: "acme.vitrina.test", logger: TestDatabase.logger)
            let mails = try await env.services.database.values(
                (String, String, String, String?).self,
                "SELECT to_address, subject, text_body, from_name FROM platform.outbox WHERE tenant_id = \(tenant.id) ORDER BY to_address")
            #expect(mails.map(\.0) == ["adam@acme.example", "anna@acme.example"])
            let english = try #require(mails.first)
            #expect(english.1 == "Acme: 110% of this month's language model tokens used" && english.3 == "North Digital")
            #expect(english.2.contains("https://acme.vitrina.test/admin/usage") && english.2.contains("paused until 1 "))
            #expect(mails[1].1.contains("израсходовано 110%"))
            for mail in mails { #expect(!(mail.1 + mail.2 + (mail.3 ?? "")).contains("Vitrina")) }
        }
    }

    @Test func tenantsYAMLSetsAndClearsTheCap() async throws {
        try await TestEnvironment.with { env in
            try await setUp(env)
            let id = try #require(try await env.provisioner.lookup(slug: "southshop"))
            #expect(try await env.scalar("SELECT llm_token_cap::int8 FROM platform.tenants WHERE id = \(id)", as: Int.self) == 4000)
            var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
            let applier = env.services.manifestApplier(file: "t.yml", environment: ["PASSWORD": Self.password])
            let changes = try await applier.apply(
                try parser.parse(Self.yaml.replacingOccurrences(of: "llm_token_cap: 4000", with: "llm_token_cap: none")), dryRun: false)
            #expect(changes.map(\.text) == ["tenant southshop: llm_token_cap none"])
            #expect(try await env.scalar("SELECT llm_token_cap::int8 FROM platform.tenants WHERE id = \(id)", as: Int?.self) == .some(nil))
            var strict = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
            #expect {
                try strict.parse(Self.yaml.replacingOccurrences(of: "llm_token_cap: 4000", with: "llm_token_cap: -3"))
            } throws: { "\($0)".contains("tenants[2].llm_token_cap: must be a whole number from 0") }
        }
    }
}

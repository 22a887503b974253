import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

/// Plans with quotas: declared per partner in tenants.yml, shown and switched in the reseller console, and team seats
/// enforced on every invitation (panel and API).
@Suite struct PlanTests {
    static let password = "tea-leaves-2026"

    static let yaml = """
        partners:
          - slug: north
            name: North Digital
            domains: [panel.north.example]
            admins: [{email: olivia@north.example, role: owner, password_env: PASSWORD}]
            plans:
              - {slug: tiny, name: Tiny, bots: 1, messages_per_month: 1000, seats: 2, llm_tokens_per_month: 100000}
              - {slug: big, name: Big, bots: unlimited, seats: 50}
          - slug: south
            name: South
            plans: [{slug: other, name: Other, seats: 3}]
        tenants:
          - slug: acme
            name: Acme
            partner: north
            plan: tiny
            admins: [{email: anna@acme.example, role: owner, password_env: PASSWORD}]
          - {slug: southshop, name: South Shop, partner: south, plan: other}
        """

    func apply(_ env: TestEnvironment, _ text: String) async throws -> [ManifestChange] {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        let applier = env.services.manifestApplier(file: "t.yml", environment: ["PASSWORD": Self.password])
        return try await applier.apply(try parser.parse(text), dryRun: false)
    }

    @Test func plansAreReadFromTheManifestWithClearErrors() throws {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        let manifest = try parser.parse(Self.yaml)
        let tiny = try #require(manifest.partners[0].plans?.first)
        #expect(
            tiny
                == Plan(
                    id: tiny.id, slug: "tiny", name: "Tiny", maxBots: 1, maxMessagesPerMonth: 1000, maxSeats: 2, llmTokensPerMonth: 100_000)
        )
        #expect(manifest.partners[0].plans?.last?.maxBots == nil && manifest.partners[0].plans?.last?.maxSeats == 50)
        #expect(manifest.tenants[0].plan == "tiny")

        let bad = """
            partners:
              - slug: north
                name: North
                plans: [{slug: tiny, name: Tiny, seats: 0, bots: many}]
            tenants:
              - {slug: acme, name: Acme, partner: north, plan: huge}
              - {slug: solo, name: Solo, plan: tiny}
            """
        var strict = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        #expect {
            try strict.parse(bad)
        } throws: { error in
            let text = "\(error)"
            return text.contains("partners[0].plans[0].seats: must be a whole number from 1")
                && text.contains("partners[0].plans[0].bots: must be a whole number from 0")
                && text.contains("tenants[0].plan: partner 'north' has no plan 'huge' (it has: tiny)")
                && text.contains("tenants[1].plan: only a partner's tenants have plans")
        }
    }

    @Test func applyingCreatesPlansAssignsThemAndIsIdempotent() async throws {
        try await TestEnvironment.with { env in
            let first = try await apply(env, Self.yaml).map(\.text)
            #expect(first.contains("plan north/tiny (Tiny)") && first.contains("plan north/big (Big)"))
            let tenantID = try #require(try await env.provisioner.lookup(slug: "acme"))
            #expect(try await env.services.plans.limits(tenantID: tenantID)?.slug == "tiny")
            #expect(try await apply(env, Self.yaml).isEmpty)
            let changed = try await apply(
                env,
                Self.yaml.replacingOccurrences(of: "seats: 2,", with: "seats: 4,").replacingOccurrences(of: "plan: tiny", with: "plan: big")
            )
            #expect(changed.map(\.text) == ["plan north/tiny (Tiny)", "tenant acme: plan big"])
            // A plan the partner does not have, when the file does not list the partner's plans: refused, nothing applied.
            let unknown = """
                tenants:
                  - {slug: acme, name: Acme, partner: north, plan: other}
                """
            await #expect(throws: ManifestError.self) { try await apply(env, unknown) }
            #expect(try await env.services.plans.limits(tenantID: tenantID)?.slug == "big")
        }
    }

    @Test func seatsAreEnforcedOnInvitationsAndTheConsoleShowsAndSwitchesPlans() async throws {
        try await TestEnvironment.with { env in
            _ = try await apply(env, Self.yaml)
            try await env.services.directory.reload()
            let key = try await env.partnerKey("north")
            try await env.withApp { client throws in
                // Tiny has 2 seats: the owner and one invitation.
                var owner = Browser(client, host: "acme.vitrina.test")
                try await owner.signIn("anna@acme.example", Self.password)
                try await owner.get("/admin/team")
                #expect(try await owner.post("/admin/team/invite", ["email": "bob@acme.example", "role": "operator"]).status == .seeOther)
                try await owner.get("/admin/team")
                let full = try await owner.post("/admin/team/invite", ["email": "carol@acme.example", "role": "viewer"])
                #expect(full.status == .conflict && full.text.contains("Все места тарифа магазина (2) заняты"))
                #expect(full.text.contains("value=\"carol@acme.example\""))
                let api = APIClient(client, token: key)
                let refused = try await api.call(
                    .post, "/api/v1/tenants/acme/members", json: #"{"email": "dan@acme.example", "role": "viewer"}"#)
                #expect(refused.isProblem("conflict", .conflict))
                let shop = try await api.get("/api/v1/tenants/acme")
                #expect(
                    shop.object["plan"] as? String == "tiny" && shop.object["seats_used"] as? Int == 2
                        && shop.object["max_seats"] as? Int == 2)
                #expect(
                    try await env.scalar(
                        "SELECT count(*)::int FROM platform.outbox WHERE to_address LIKE '%@acme.example' AND to_address <> 'bob@acme.example'",
                        as: Int.self) == 0)

                // A revoked invitation gives its seat back.
                let invitation = try #require(
                    try await env.scalar(
                        "SELECT encode(token_hash, 'hex') FROM platform.one_time_tokens WHERE email = 'bob@acme.example' AND purpose = 'invite'",
                        as: String.self))
                try await owner.get("/admin/team")
                #expect(try await owner.post("/admin/team/invitations/\(invitation)/revoke").status == .seeOther)
                try await owner.get("/admin/team")
                #expect(try await owner.post("/admin/team/invite", ["email": "carol@acme.example", "role": "viewer"]).status == .seeOther)

                // The agency sees plan and seats, and moves the shop to a bigger plan; then another invitation goes through.
                var partner = Browser(client, host: "panel.north.example")
                try await partner.signIn("olivia@north.example", Self.password)
                let console = try await partner.get("/admin")
                #expect(console.text.contains("2 / 2") && console.text.contains("seats-full"))
                #expect(console.text.contains("Тарифы") && console.text.contains(">Tiny<") && console.text.contains("без ограничений"))
                let big = try #require(try await env.scalar("SELECT id FROM platform.plans WHERE slug = 'big'", as: UUID.self))
                let other = try #require(try await env.scalar("SELECT id FROM platform.plans WHERE slug = 'other'", as: UUID.self))
                #expect(try await partner.post("/admin/tenants/acme/plan", ["plan": other.uuidString]).status == .unprocessableContent)
                #expect(try await partner.post("/admin/tenants/southshop/plan", ["plan": big.uuidString]).status == .notFound)
                #expect(try await partner.post("/admin/tenants/acme/plan", ["plan": big.uuidString]).status == .seeOther)
                #expect(try await partner.get("/admin").text.contains("2 / 50"))
                try await owner.get("/admin/team")
                #expect(try await owner.post("/admin/team/invite", ["email": "erin@acme.example", "role": "viewer"]).status == .seeOther)
                #expect(try await partner.get("/admin/audit").text.contains("Изменён тариф магазина"))
            }
        }
    }
}

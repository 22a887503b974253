import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("Invitations and password resets")
struct TokenTests {
    static let password = "correct-horse-battery"

    /// The path and query of a link from an e-mail.
    static func path(of link: String) throws -> String {
        let url = try #require(URL(string: link))
        return url.path + "?" + (url.query ?? "")
    }

    @Test func anInvitationIsMailedInTheTenantsBrandingAndWorksOnceThenExpires() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", branding: Branding(name: "Acme Tea", primaryColor: "#2e7d32"))
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var owner = Browser(client, host: "acme.vitrina.test")
                try await owner.signIn("anna@acme.test", Self.password)
                try await owner.get("/admin/team")
                let invited = try await owner.post("/admin/team/invite", ["email": "Oleg@Acme.test", "role": "operator"])
                #expect(invited.status == .seeOther)
                let team = try await owner.get("/admin/team")
                #expect(team.text.contains("Приглашение отправлено на oleg@acme.test."))
                #expect(team.text.contains("oleg@acme.test"))

                let mail = try #require(
                    try await env.scalar(
                        "SELECT subject || '|' || html_body FROM platform.outbox WHERE to_address = 'oleg@acme.test'", as: String.self))
                #expect(mail.contains("Acme") && mail.contains("#2e7d32"))
                #expect(!mail.lowercased().contains("vitrina<"))
                let link = try #require(try await env.linkInLastMail(to: "oleg@acme.test"))
                #expect(link.hasPrefix("http://acme.vitrina.test/admin/invite?token="))

                var oleg = Browser(client, host: "acme.vitrina.test")
                let form = try await oleg.get(try Self.path(of: link))
                #expect(form.status == .ok)
                #expect(form.text.contains("Оператор"))
                // A weak password is refused with the input kept.
                let weak = try await oleg.post(
                    "/admin/invite",
                    ["token": String(link.split(separator: "=").last!), "name": "Олег", "password": "1234567890", "confirm": "1234567890"])
                #expect(weak.status == .unprocessableContent)
                #expect(weak.text.contains("value=\"Олег\""))
                let accepted = try await oleg.post(
                    "/admin/invite",
                    [
                        "token": String(link.split(separator: "=").last!), "name": "Олег", "password": "tea-leaves-2026",
                        "confirm": "tea-leaves-2026",
                    ])
                #expect(accepted.status == .seeOther)
                let dashboard = try await oleg.get("/admin")
                #expect(dashboard.status == .ok)
                #expect(dashboard.text.contains("Добро пожаловать в команду!"))
                #expect(dashboard.text.contains("Оператор"))

                // Used once: the link is dead now, and so is a copy of the form.
                var again = Browser(client, host: "acme.vitrina.test")
                #expect(try await again.get(try Self.path(of: link)).status == .gone)
                try await again.get("/admin/login")
                let replay = try await again.post(
                    "/admin/invite",
                    [
                        "token": String(link.split(separator: "=").last!), "name": "X", "password": "tea-leaves-2027",
                        "confirm": "tea-leaves-2027",
                    ])
                #expect(replay.status == .gone)

                // An expired invitation does not work either.
                try await owner.get("/admin/team")
                try await owner.post("/admin/team/invite", ["email": "late@acme.test", "role": "viewer"])
                let late = try #require(try await env.linkInLastMail(to: "late@acme.test"))
                try await env.client.query(
                    "UPDATE platform.one_time_tokens SET expires_at = now() - interval '1 second' WHERE email = 'late@acme.test'",
                    logger: TestDatabase.logger)
                #expect(try await again.get(try Self.path(of: late)).status == .gone)
                // Nor does it on another tenant's host.
                try await env.makeTenant("bolt")
                try await owner.get("/admin/team")
                try await owner.post("/admin/team/invite", ["email": "wander@acme.test", "role": "viewer"])
                let wander = try #require(try await env.linkInLastMail(to: "wander@acme.test"))
                var elsewhere = Browser(client, host: "bolt.vitrina.test")
                // The app's directory learns of the new shop from a notification: until then its host is unknown (404).
                var status = try await elsewhere.get(try Self.path(of: wander)).status
                for _ in 0..<50 where status == .notFound {
                    try await Task.sleep(for: .milliseconds(100))
                    status = try await elsewhere.get(try Self.path(of: wander)).status
                }
                #expect(status == .gone)
            }
        }
    }

    @Test func aPasswordResetLinkWorksOnceEndsSessionsAndExpires() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var signedIn = Browser(client, host: "acme.vitrina.test")
                try await signedIn.signIn("anna@acme.test", Self.password)
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.get("/admin/forgot")
                let asked = try await browser.post("/admin/forgot", ["email": "anna@acme.test"])
                #expect(asked.status == .ok)
                #expect(asked.text.contains("Если такой адрес зарегистрирован"))
                // An unknown address gets the same page and no mail.
                let unknown = try await browser.post("/admin/forgot", ["email": "nobody@acme.test"])
                #expect(unknown.status == .ok && unknown.text.contains("Если такой адрес зарегистрирован"))
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.outbox", as: Int.self) == 1)

                let link = try #require(try await env.linkInLastMail(to: "anna@acme.test"))
                let token = String(link.split(separator: "=").last!)
                #expect(try await browser.get(try Self.path(of: link)).status == .ok)
                let mismatch = try await browser.post(
                    "/admin/reset", ["token": token, "password": "new-password-2026", "confirm": "other"])
                #expect(mismatch.status == .unprocessableContent)
                let done = try await browser.post(
                    "/admin/reset", ["token": token, "password": "new-password-2026", "confirm": "new-password-2026"])
                #expect(done.status == .seeOther && done.location == "/admin/login?reset=1")
                #expect(try await signedIn.get("/admin").status == .seeOther)
                #expect(try await browser.signIn("anna@acme.test", Self.password).status == .unauthorized)
                #expect(try await browser.signIn("anna@acme.test", "new-password-2026").status == .seeOther)
                let reused = try await browser.post(
                    "/admin/reset", ["token": token, "password": "third-password-2026", "confirm": "third-password-2026"])
                #expect(reused.status == .gone)

                try await env.client.query(
                    "UPDATE platform.one_time_tokens SET created_at = now() - interval '2 minutes'", logger: TestDatabase.logger)
                try await browser.get("/admin/forgot")
                try await browser.post("/admin/forgot", ["email": "anna@acme.test"])
                let second = try #require(try await env.linkInLastMail(to: "anna@acme.test"))
                #expect(second != link)
                try await env.client.query(
                    "UPDATE platform.one_time_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'reset'",
                    logger: TestDatabase.logger)
                #expect(try await browser.get(try Self.path(of: second)).status == .gone)
                let stored = try #require(
                    try await env.scalar("SELECT encode(token_hash, 'hex') FROM platform.one_time_tokens LIMIT 1", as: String.self))
                #expect(!link.contains(stored))
            }
        }
    }
}

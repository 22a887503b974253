import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("Signing in, sessions and CSRF")
struct SignInTests {
    static let password = "correct-horse-battery"

    @Test func signInSetsAHostOnlyHttpOnlyLaxCookieAndOverHTTPSTheHostPrefixAndSecure() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var plain = Browser(client, host: "acme.vitrina.test")
                let response = try await plain.signIn("anna@acme.test", Self.password)
                #expect(response.status == .seeOther)
                #expect(response.location == "/admin")
                let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("sid=") })
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"))
                #expect(!cookie.contains("Secure") && !cookie.contains("Domain"))
                #expect(try await plain.get("/admin").status == .ok)

                var secure = Browser(client, host: "acme.vitrina.test", secure: true)
                let overHTTPS = try await secure.signIn("anna@acme.test", Self.password)
                let hostCookie = try #require(overHTTPS.headers[values: .setCookie].first { $0.hasPrefix("__Host-sid=") })
                #expect(hostCookie.contains("Secure") && hostCookie.contains("HttpOnly") && hostCookie.contains("SameSite=Lax"))
                #expect(hostCookie.contains("Path=/") && !hostCookie.contains("Domain"))
                #expect(overHTTPS.headers[.strictTransportSecurity] != nil)
            }
        }
    }

    @Test func theSessionIdChangesAtSignInAndAPlantedOrEarlierOneStopsWorking() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                let planted = SecretToken.make()
                browser.cookies["sid"] = planted
                try await browser.signIn("anna@acme.test", Self.password)
                let first = try #require(browser.session)
                #expect(first != planted)
                try await browser.signIn("anna@acme.test", Self.password)
                let second = try #require(browser.session)
                #expect(second != first)
                var replay = Browser(client, host: "acme.vitrina.test")
                replay.cookies["sid"] = first
                let old = try await replay.get("/admin")
                #expect(old.status == .seeOther && old.location == "/admin/login")
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.sessions", as: Int.self) == 1)
            }
        }
    }

    @Test func signingOutEndsTheSessionOnTheServer() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("anna@acme.test", Self.password)
                let token = try #require(browser.session)
                try await browser.get("/admin")
                let out = try await browser.post("/admin/logout")
                #expect(out.status == .seeOther)
                #expect(out.headers[values: .setCookie].contains { $0.hasPrefix("sid=;") && $0.contains("Max-Age=0") })
                var replay = Browser(client, host: "acme.vitrina.test")
                replay.cookies["sid"] = token
                #expect(try await replay.get("/admin").status == .seeOther)
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.sessions", as: Int.self) == 0)
            }
        }
    }

    @Test func aPostWithoutOrWithAWrongCSRFTokenIsRefused() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                // The sign-in form itself is protected.
                try await browser.get("/admin/login")
                let noToken = try await browser.post("/admin/login", ["email": "anna@acme.test", "password": Self.password], csrf: "")
                #expect(noToken.status == .forbidden)
                #expect(browser.session == nil)
                try await browser.signIn("anna@acme.test", Self.password)
                try await browser.get("/admin/articles/new")
                let fields = ["title": "Доставка", "slug": "delivery", "body": "Курьером."]
                let missing = try await browser.post("/admin/articles/new", fields, csrf: "")
                #expect(missing.status == .forbidden)
                #expect(missing.text.contains("403"))
                let wrong = try await browser.post("/admin/articles/new", fields, csrf: SecretToken.make())
                #expect(wrong.status == .forbidden)
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.tenant_stats WHERE articles > 0", as: Int.self) == 0)
                let right = try await browser.post("/admin/articles/new", fields)
                #expect(right.status == .seeOther)
                #expect(try await client.get("/help/delivery", host: "acme.vitrina.test").status == .ok)
            }
        }
    }

    @Test func unknownAddressAndWrongPasswordGetTheSameAnswer() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                let wrong = try await browser.signIn("anna@acme.test", "not-the-password")
                let unknown = try await browser.signIn("nobody@acme.test", "not-the-password")
                #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
                #expect(wrong.text.contains("Неверная эл. почта или пароль."))
                #expect(unknown.text.contains("Неверная эл. почта или пароль."))
                #expect(wrong.text.contains("value=\"anna@acme.test\""))
                #expect(browser.session == nil)
            }
        }
    }

    @Test func afterFiveFailuresAttemptsWaitAndTheRightPasswordDoesNotSkipTheWait() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                for attempt in 1...4 {
                    #expect(try await browser.signIn("anna@acme.test", "wrong-\(attempt)").status == .unauthorized)
                }
                let fifth = try await browser.signIn("anna@acme.test", "wrong-5")
                #expect(fifth.status == .tooManyRequests)
                let right = try await browser.signIn("anna@acme.test", Self.password)
                #expect(right.status == .tooManyRequests)
                let retry = try #require(right.headers[.retryAfter].flatMap(Int.init))
                #expect((1...30).contains(retry))
                #expect(right.text.contains("Повторите через"))
                #expect(browser.session == nil)
                // From another address the account is still locked: the wait is per account too.
                var elsewhere = Browser(client, host: "acme.vitrina.test")
                elsewhere.address = "198.51.100.9"
                #expect(try await elsewhere.signIn("anna@acme.test", Self.password).status == .tooManyRequests)
                // Once the wait is over, the right password works and clears the count.
                try await env.client.query(
                    "UPDATE platform.login_failures SET locked_until = now() - interval '1 second'", logger: TestDatabase.logger)
                #expect(try await browser.signIn("anna@acme.test", Self.password).status == .seeOther)
                // The next failure after a wait doubles it.
                try await env.client.query(
                    "UPDATE platform.login_failures SET locked_until = NULL", logger: TestDatabase.logger)
                var other = Browser(client, host: "acme.vitrina.test")
                other.address = "192.0.2.44"
                for attempt in 1...5 { _ = try await other.signIn("anna@acme.test", "again-\(attempt)") }
                try await env.client.query(
                    "UPDATE platform.login_failures SET locked_until = now() - interval '1 second'", logger: TestDatabase.logger)
                let sixth = try await other.signIn("anna@acme.test", "again-6")
                #expect(sixth.status == .tooManyRequests)
                let doubled = try #require(sixth.headers[.retryAfter].flatMap(Int.init))
                #expect((31...60).contains(doubled))
            }
        }
    }

    @Test func idleAndAbsoluteTimeoutsEndSessions() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("anna@acme.test", Self.password)
                #expect(try await browser.get("/admin").status == .ok)
                try await env.client.query(
                    "UPDATE platform.sessions SET last_seen_at = now() - interval '9 hours'", logger: TestDatabase.logger)
                #expect(try await browser.get("/admin").status == .seeOther)
                try await browser.signIn("anna@acme.test", Self.password)
                try await env.client.query(
                    "UPDATE platform.sessions SET expires_at = now() - interval '1 second'", logger: TestDatabase.logger)
                #expect(try await browser.get("/admin").status == .seeOther)
            }
        }
    }

    @Test func signingOutEverywhereEndsEverySessionOfTheUser() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var laptop = Browser(client, host: "acme.vitrina.test")
                var phone = Browser(client, host: "acme.vitrina.test")
                try await laptop.signIn("anna@acme.test", Self.password)
                try await phone.signIn("anna@acme.test", Self.password)
                let profile = try await laptop.get("/admin/profile")
                #expect(profile.text.contains("Открытых сеансов: 2."))
                #expect(try await laptop.post("/admin/profile/sign-out-everywhere").status == .seeOther)
                #expect(try await phone.get("/admin").status == .seeOther)
                #expect(try await laptop.get("/admin").status == .seeOther)
            }
        }
    }

    @Test func aUserSignedInOnOneTenantsHostIsNotSignedInOnAnothers() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeTenant("bolt")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "bolt")
            try await env.withApp { client throws in
                var acme = Browser(client, host: "acme.vitrina.test")
                try await acme.signIn("anna@acme.test", Self.password)
                try await acme.get("/admin")
                var bolt = Browser(client, host: "bolt.vitrina.test")
                bolt.cookies = acme.cookies
                let page = try await bolt.get("/admin")
                #expect(page.status == .seeOther && page.location == "/admin/login")
                let action = try await bolt.post("/admin/articles/new", ["title": "x", "slug": "x", "body": "x"], csrf: acme.csrf)
                #expect(action.status == .forbidden)
            }
        }
    }

    @Test func parallelGuessesCannotSlipPastTheCount() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.get("/admin/login")
                let template = browser
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for attempt in 1...24 {
                        group.addTask {
                            var copy = template
                            return try await copy.post("/admin/login", ["email": "anna@acme.test", "password": "guess-\(attempt)"]).status
                        }
                    }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                // Only the attempts before the threshold had their password checked; every other one waited.
                #expect(statuses.filter { $0 == .unauthorized }.count <= 4)
                #expect(statuses.filter { $0 == .tooManyRequests }.count >= 20)
                #expect(statuses.allSatisfy { $0 == .unauthorized || $0 == .tooManyRequests })
            }
        }
    }

    @Test func oddInputGetsAnAnswerNotAServerError() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                for header in [";", ",,", "q=1", ";q=0.5, en"] {
                    let page = try await client.execute(
                        uri: "/admin/login", method: .get,
                        headers: [HTTPField.Name("X-Forwarded-Host")!: "acme.vitrina.test", .acceptLanguage: header], body: nil)
                    #expect(page.status == .ok, "Accept-Language: \(header)")
                }
                try await browser.get("/admin/login")
                let nul = try await browser.post("/admin/login", ["email": "anna\u{0}@acme.test", "password": "x\u{0}y"])
                #expect(nul.status == .unauthorized || nul.status == .unprocessableContent)
                try await browser.signIn("anna@acme.test", Self.password)
                try await browser.get("/admin/articles/new")
                let long = String(repeating: "e\u{301}", count: 150)  // 150 characters, 300 code points
                let tooLong = try await browser.post("/admin/articles/new", ["title": long, "slug": "long", "body": "x"])
                #expect(tooLong.status == .unprocessableContent)
                #expect(try await browser.get("/admin/audit?actor=%00").status == .ok)
                // Signing out after the session ended still signs out.
                try await env.client.query("DELETE FROM platform.sessions", logger: TestDatabase.logger)
                #expect(try await browser.post("/admin/logout").status == .seeOther)
            }
        }
    }

    @Test func aResetIsOnlyMailedForAnAccountWithARoleOnThatHost() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            try await env.makeTenant("bolt")
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var elsewhere = Browser(client, host: "bolt.vitrina.test")
                try await elsewhere.get("/admin/forgot")
                let answer = try await elsewhere.post("/admin/forgot", ["email": "anna@acme.test"])
                #expect(answer.status == .ok && answer.text.contains("Если такой адрес зарегистрирован"))
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.outbox", as: Int.self) == 0)
            }
        }
    }
}

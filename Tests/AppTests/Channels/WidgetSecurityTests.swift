import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("Widget: signed identities, origins, limits, the silent bot")
struct WidgetSecurityTests {
    @Test func aSignedCustomerFollowsAcrossBrowsersAndBadTokensAreRefused() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let secret = try await env.withTenant(tenant.scope) { try await env.services.inboxSettings.rotateIdentitySecret(on: $0) }
            #expect(try await env.withTenant(tenant.scope) { try await env.services.inboxSettings.identitySecret(on: $0) } == secret)
            let sealed = try await env.withTenant(tenant.scope) {
                try await $0.value(String.self, "SELECT identity_secret FROM inbox_settings")
            }
            #expect(sealed?.contains(secret) == false)  // encrypted at rest
            try await env.withApp { client in
                let now = Date().timeIntervalSince1970
                let good = SignedIdentity.sign(["sub": "customer-42", "exp": Int(now) + 300, "name": "Мария"], secret: secret)
                // Two browsers, each with its own anonymous token first, both signed in as the same customer.
                var laptop = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                var phone = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let first = try await laptop.call(.post, "/widget/api/identify", json: #"{"jwt": "\#(good)"}"#)
                #expect(first.status == .ok && first.object["sub"] as? String == "customer-42")
                laptop.token = first.object["token"] as? String
                try await laptop.call(.post, "/widget/api/messages", json: #"{"text": "оплата картой"}"#)
                let second = try await phone.call(.post, "/widget/api/identify", json: #"{"jwt": "\#(good)"}"#)
                phone.token = second.object["token"] as? String
                #expect(try await phone.messages(atLeast: 1).first?["text"] as? String == "оплата картой")
                // Refused: expired, signed with another key, tampered, alg none, living too long, no subject.
                let refused: [String] = [
                    SignedIdentity.sign(["sub": "customer-42", "exp": Int(now) - 120], secret: secret),
                    SignedIdentity.sign(["sub": "customer-42", "exp": Int(now) + 300], secret: "another-secret"),
                    Self.tamper(good),
                    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + SignedIdentity.encode(Data(#"{"sub":"customer-42","exp":9999999999}"#.utf8))
                        + ".",
                    SignedIdentity.sign(["sub": "customer-42", "exp": Int(now) + 3600 * 24], secret: secret),
                    SignedIdentity.sign(["exp": Int(now) + 300], secret: secret),
                    "not a token",
                ]
                for token in refused {
                    let response = try await phone.call(.post, "/widget/api/identify", json: #"{"jwt": "\#(token)"}"#)
                    #expect(response.isProblem("unauthorized", .unauthorized), "\(token)")
                }
                // An unsigned stranger never reads the customer's conversation.
                let stranger = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                #expect(try await stranger.call(.get, "/widget/api/conversation").object["conversation"] is NSNull)
            }
        }
    }

    /// Runs a program and returns what it printed (trimmed).
    static func output(_ program: String, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run(["/usr/bin/env", program] + arguments)
        #expect(result.status == 0, "\(program) \(arguments): \(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theGuidesPythonAndPHPExamplesSignTokensTheServerAccepts() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let secret = try await env.withTenant(tenant.scope) { try await env.services.inboxSettings.rotateIdentitySecret(on: $0) }
            let examples = TestDatabase.packageRoot + "/docs/examples/"
            let python = try Self.output("python3", [examples + "widget_identity.py", secret, "customer-7", "Мария", "maria@example.com"])
            let php = try Self.output("php", [examples + "widget_identity.php", secret, "customer-7", "Мария", "maria@example.com"])
            for token in [python, php] {
                let identity = try SignedIdentity.verify(token, secret: secret, now: Date())
                #expect(identity == SignedIdentity(subject: "customer-7", name: "Мария", email: "maria@example.com"))
            }
            try await env.withApp { client in
                let visitor = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let accepted = try await visitor.call(.post, "/widget/api/identify", json: #"{"jwt": "\#(php)"}"#)
                #expect(accepted.status == .ok && accepted.object["sub"] as? String == "customer-7")
            }
        }
    }

    /// The same token with the payload changed (sub → someone else) and the old signature kept.
    static func tamper(_ token: String) -> String {
        let parts = token.split(separator: ".").map(String.init)
        let payload = SignedIdentity.encode(Data(#"{"exp":9999999999,"sub":"customer-1"}"#.utf8))
        return parts[0] + "." + payload + "." + parts[2]
    }

    @Test func originsAreCheckedAndOnlyAllowedOnesGetCORS() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            try await env.withTenant(tenant.scope) { connection in
                try await connection.execute("UPDATE bots SET allowed_origins = '{https://store.tea.example}'")
            }
            try await env.withApp { client in
                var own = WidgetClient(client: client, host: "tea.vitrina.test")
                own.origin = "http://tea.vitrina.test"
                #expect(try await own.call(.post, "/widget/api/visitors", json: "{}").status == .created)
                var store = WidgetClient(client: client, host: "tea.vitrina.test")
                store.origin = "https://store.tea.example"
                let allowed = try await store.call(.post, "/widget/api/visitors", json: "{}")
                #expect(allowed.status == .created && allowed.headers[.accessControlAllowOrigin] == "https://store.tea.example")
                let preflight = try await store.call(.options, "/widget/api/messages")
                #expect(preflight.status == .noContent && preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
                var evil = WidgetClient(client: client, host: "tea.vitrina.test")
                evil.origin = "https://evil.example"
                let refused = try await evil.call(.post, "/widget/api/visitors", json: "{}")
                #expect(refused.isProblem("forbidden", .forbidden) && refused.headers[.accessControlAllowOrigin] == nil)
                #expect(try await evil.call(.options, "/widget/api/messages").status == .forbidden)
                // The frame may be embedded by the allowed origin only.
                let frame = try await client.get("/widget/frame?parent=https%3A%2F%2Fstore.tea.example", host: "tea.vitrina.test")
                let policy = frame.headers[.contentSecurityPolicy] ?? ""
                #expect(frame.status == .ok && policy.contains("frame-ancestors 'self' https://store.tea.example"))
                #expect(frame.text.contains(#""parent_origin":"https://store.tea.example""#))
                let foreign = try await client.get("/widget/frame?parent=https%3A%2F%2Fevil.example", host: "tea.vitrina.test")
                #expect(foreign.text.contains(#""parent_origin":null"#) || !foreign.text.contains("evil.example"))
                let script = try await client.get("/widget.js", host: "tea.vitrina.test")
                #expect(script.status == .ok && script.headers[.contentType]?.hasPrefix("text/javascript") == true)
                #expect(!script.text.contains("__CONFIG__") && script.text.contains(#""default_bot":"assistant""#))
            }
        }
    }

    @Test func limitsAreSentencesInTheShoppersLanguage() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            try await env.withApp { client in
                let shopper = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let long = String(repeating: "а", count: WidgetLimits.maximumLength + 1)
                let tooLong = try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "\#(long)"}"#)
                #expect(tooLong.isProblem("validation", .unprocessableContent) && tooLong.text.contains("2000"))
                let empty = try await shopper.call(.post, "/widget/api/messages", json: #"{"text": " \n "}"#)
                #expect(empty.isProblem("validation", .unprocessableContent))
                var limited: TestResponse?
                // 20 a minute, refilled continuously: on a slow machine a few more get through before the bucket is empty.
                for index in 0..<60 {
                    let response = try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "вопрос \#(index)"}"#)
                    if response.status == .tooManyRequests {
                        limited = response
                        break
                    }
                }
                let refusal = try #require(limited)
                #expect(refusal.isProblem("rate-limited", .tooManyRequests) && refusal.headers[.retryAfter] != nil)
                #expect((refusal.object["detail"] as? String)?.contains("Подождите") == true)
                var english: TestResponse?
                for _ in 0..<10 where english == nil {
                    let response = try await shopper.call(
                        .post, "/widget/api/messages", json: #"{"text": "one more"}"#, headers: [.acceptLanguage: "en-GB,en;q=0.9"])
                    if response.status == .tooManyRequests { english = response }
                }
                #expect((english?.object["detail"] as? String)?.contains("Wait a minute") == true)
            }
        }
    }

    @Test func theBotNeverSpeaksAfterAPersonTookOverEvenWithAnAnswerInFlight() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let anna = try await env.makeUser("anna@tea.example", role: .operator, tenant: "tea")
            // No workers in the app: the bot's answer stays queued until this test runs the job itself.
            try await env.withApp(configure: { $0.runWorkers = false }) { client in
                let shopper = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let sent = try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "Сколько идёт доставка?"}"#)
                let id = try #require((sent.object["conversation"] as? [String: Any])?["id"] as? Int)
                #expect(try await env.scalar("SELECT count(*)::int FROM platform.jobs WHERE kind = 'bot.answer'", as: Int.self) == 1)
                // Anna takes the conversation while the answer is in flight, then the job runs.
                try await InboxActions(tenants: env.services.tenants).perform(
                    .reply("Я помогу"), conversation: id, user: anna.id, in: tenant)
                #expect(await env.worker().runDue() >= 1)
                #expect(
                    try await env.scalar(
                        "SELECT count(*)::int FROM platform.jobs WHERE kind = 'bot.answer' AND status = 'done'", as: Int.self) == 1)
                let messages = try await shopper.messages(atLeast: 2)
                #expect(messages.map { $0["author"] as? String ?? "" } == ["shopper", "operator"])
                // Running the job again (a retry after a lease ran out) still says nothing.
                let job = AnswerMessage(
                    conversation: id, message: try #require((sent.object["message"] as? [String: Any])?["id"] as? Int))
                try await env.services.botEngine.answer(job, in: tenant)
                #expect(try await shopper.messages(atLeast: 2).count == 2)
            }
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("Passwords, manifest admins, CLI accounts, mail")
struct AccountsTests {
    @Test func passwordPolicyRefusesShortAndCommonPasswords() {
        #expect(PasswordPolicy.problem(with: "short") == "password_too_short")
        #expect(PasswordPolicy.problem(with: "Password123") == "password_too_common")
        #expect(PasswordPolicy.problem(with: "qwertyuiop") == "password_too_common")
        #expect(PasswordPolicy.problem(with: "aaaaaaaaaaaa") == "password_too_common")
        #expect(PasswordPolicy.problem(with: String(repeating: "ab1", count: 70)) == "password_too_long")
        #expect(PasswordPolicy.problem(with: "tea-leaves-in-the-pot") == nil)
    }

    @Test func argon2SettingsBelowOWASPsMinimumAreRefusedAndHigherOnesApply() throws {
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["VITRINA_ARGON2_MEMORY_KIB": "4096"]) }
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["VITRINA_ARGON2_ITERATIONS": "1"]) }
        let config = try AppConfiguration.fromEnvironment(["VITRINA_ARGON2_MEMORY_KIB": "32768", "VITRINA_ARGON2_ITERATIONS": "3"])
        #expect(config.passwordHasher.memoryKiB == 32768 && config.passwordHasher.iterations == 3)
        let hash = try config.passwordHasher.hash("tea-leaves-in-the-pot")
        #expect(hash.hasPrefix("$argon2id$v=19$m=32768,t=3,p=1$"))
        #expect(PasswordHasher().needsRehash(hash) == false)
        #expect(config.passwordHasher.needsRehash(try PasswordHasher().hash("x")) == true)
    }

    @Test func storedHashesAreArgon2idPHCAndWeakerOnesAreReplacedAtSignIn() async throws {
        try await TestEnvironment.with(configure: { $0.passwordHasher = PasswordHasher(memoryKiB: 19 * 1024, iterations: 3) }) { env in
            try await env.makeTenant("acme")
            let user = try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            #expect(user.passwordHash?.hasPrefix("$argon2id$v=19$m=19456,t=3,p=1$") == true)
            // A hash made with the minimum settings (as an older installation would have stored it).
            let weak = try PasswordHasher().hash("correct-horse-battery")
            try await env.services.users.setPassword(userID: user.id, hash: weak)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                #expect(try await browser.signIn("anna@acme.test", "correct-horse-battery").status == .seeOther)
            }
            let stored = try #require(try await env.services.users.find(email: "anna@acme.test")?.passwordHash)
            #expect(stored != weak)
            #expect(stored.hasPrefix("$argon2id$v=19$m=19456,t=3,p=1$"))
            #expect(stored.split(separator: "$").count == 5)
        }
    }

    @Test func manifestAdminsAreCreatedFromTheEnvironmentIdempotently() async throws {
        try await TestEnvironment.with { env in
            let yaml = """
                admins:
                  - {email: Root@Example.test, password_env: TEST_ROOT_PASSWORD}
                partners:
                  - slug: north
                    name: North
                    admins:
                      - {email: olivia@north.test, role: owner, password_env: TEST_DEMO_PASSWORD}
                tenants:
                  - slug: acme
                    name: Acme
                    partner: north
                    admins:
                      - {email: anna@acme.test, role: owner, password_env: TEST_DEMO_PASSWORD}
                      - {email: oleg@acme.test, role: operator}
                """
            var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
            let manifest = try parser.parse(yaml)
            let environment = ["TEST_ROOT_PASSWORD": "root-password-2026", "TEST_DEMO_PASSWORD": "demo-password-2026"]
            let applier = env.services.manifestApplier(file: "t.yml", environment: environment)
            let first = try await applier.apply(manifest, dryRun: false)
            #expect(first.contains { $0.text == "anna@acme.test: owner of tenant acme" })
            #expect(first.contains { $0.text == "root@example.test: platform_admin of the platform" })
            #expect(try await applier.apply(manifest, dryRun: false).isEmpty)
            let oleg = try #require(try await env.services.users.find(email: "oleg@acme.test"))
            #expect(oleg.passwordHash == nil)
            let anna = try #require(try await env.services.users.find(email: "anna@acme.test"))
            #expect(PasswordHasher().verify("demo-password-2026", against: try #require(anna.passwordHash)))

            let missing = env.services.manifestApplier(file: "t.yml", environment: [:])
            await #expect(throws: ManifestError.self) { try await missing.apply(manifest, dryRun: false) }
            let weak = env.services.manifestApplier(
                file: "t.yml", environment: ["TEST_ROOT_PASSWORD": "password123", "TEST_DEMO_PASSWORD": "demo-password-2026"])
            do {
                _ = try await weak.apply(manifest, dryRun: false)
                Issue.record("a common password was accepted")
            } catch let error as ManifestError {
                #expect(
                    error.description.contains(
                        "admins[0].password_env: the password in TEST_ROOT_PASSWORD is one of the most common passwords"))
            }
            var bad = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
            #expect(throws: ManifestError.self) {
                try bad.parse("tenants:\n  - {slug: acme, name: Acme, admins: [{email: x@y.test, role: partner_owner}]}\n")
            }
        }
    }

    @Test func theCLICreatesListsAndResetsAccounts() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme")
            let created = try await CLI.run(
                ["users", "create", "--email", "Anna@Acme.test", "--tenant", "acme", "--role", "owner"], database: env.url)
            #expect(created.status == 0)
            #expect(created.output.contains("Created anna@acme.test as owner."))
            let password = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("Password (shown once): ") })
                .replacingOccurrences(of: "Password (shown once): ", with: "")
            let user = try #require(try await env.services.users.find(email: "anna@acme.test"))
            #expect(PasswordHasher().verify(password, against: try #require(user.passwordHash)))

            let piped = try await CLI.run(
                ["users", "create", "--email", "oleg@acme.test", "--tenant", "acme", "--role", "operator", "--password-stdin"],
                database: env.url,
                stdin: "tea-leaves-2026\n")
            #expect(piped.status == 0 && !piped.output.contains("shown once"))
            let list = try await CLI.run(["users", "list", "--tenant", "acme"], database: env.url)
            #expect(list.output.contains("anna@acme.test") && list.output.contains("owner@acme") && list.output.contains("operator@acme"))

            let reset = try await CLI.run(["users", "reset-password", "oleg@acme.test"], database: env.url)
            #expect(reset.status == 0 && reset.output.contains("Password (shown once): "))

            #expect(
                try await CLI.run(["users", "create", "--email", "x@acme.test", "--tenant", "acme", "--role", "boss"], database: env.url)
                    .status
                    == 2)
            #expect(
                try await CLI.run(["users", "create", "--email", "x@acme.test", "--tenant", "nope", "--role", "owner"], database: env.url)
                    .status
                    == 2)
            let weak = try await CLI.run(
                ["users", "create", "--email", "x@acme.test", "--tenant", "acme", "--role", "owner", "--password-stdin"], database: env.url,
                stdin: "short\n")
            #expect(weak.status == 2 && weak.output.contains("shorter than 10 characters"))
            #expect(try await CLI.run(["users", "reset-password", "ghost@acme.test"], database: env.url).status == 2)
        }
    }

    @Test func queuedMailIsSentOverSMTPAndAPermanentRefusalEndsIt() async throws {
        let server = FakeSMTPServer(.init(rejectedRecipients: ["bounce@acme.test"]))
        let port = try await server.start()
        defer { Task { try? await server.stop() } }
        try await TestEnvironment.with(configure: { $0.smtpURL = "smtp://127.0.0.1:\(port)?tls=none&from=noreply@acme.test" }) { env in
            let outbox = env.services.outbox
            try await outbox.enqueue(OutgoingMail(to: "anna@acme.test", subject: "Приглашение", text: "Текст", html: "<p>Текст</p>"))
            try await outbox.enqueue(OutgoingMail(to: "bounce@acme.test", subject: "Hello", text: "Text", html: nil))
            let worker = env.worker()
            #expect(await worker.runDue() == 2)
            #expect(await worker.runDue() == 0)
            let received = server.messages()
            #expect(received.count == 1)
            #expect(received.first?.rcptTo == ["anna@acme.test"])
            #expect(
                try await env.scalar("SELECT status FROM platform.outbox WHERE to_address = 'anna@acme.test'", as: String.self) == "sent")
            #expect(
                try await env.scalar("SELECT status FROM platform.outbox WHERE to_address = 'bounce@acme.test'", as: String.self)
                    == "failed")
        }
    }
}

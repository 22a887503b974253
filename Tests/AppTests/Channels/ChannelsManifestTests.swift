import Foundation
import PostgresNIO
import Testing

@testable import App

/// `bot: {channels:}` in tenants.yml and `vitrina channels list`. Telegram is saved and queued (`pending`) only: its
/// client is a placeholder in the composition root until the real one is wired.
@Suite("Channels: tenants.yml and vitrina channels list")
struct ChannelsManifestTests {
    static let skill = "3b1c9a6e-2f4d-4e8a-9c61-7d5e0b2a4f13"
    static let token = "123456789:AAEabcdefghijklmnopqrstuvwxyz9876"
    static let yaml = """
        tenants:
          - slug: acme
            name: Acme Tea
            bot:
              name: Чайник
              channels:
                alice: {skill_id: "\(skill)", handoff_contact: "+7 800 555-35-35"}
                telegram: {token_env: ACME_TELEGRAM_TOKEN, drop_pending_updates: true}
        """

    func issues(_ yaml: String) -> [String] {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        do {
            _ = try parser.parse(yaml)
            return []
        } catch let error as ManifestError {
            return error.issues.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func theParserReadsChannelsAndSaysWhatIsWrong() throws {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        let channels = try #require(try parser.parse(Self.yaml).tenants.first?.bot.channels)
        #expect(channels.map(\.kind) == [.telegram, .alice])
        #expect(channels.first?.tokenEnv == "ACME_TELEGRAM_TOKEN" && channels.first?.dropPendingUpdates == true)
        #expect(channels.last?.skillID == Self.skill && channels.last?.handoffContact == "+7 800 555-35-35")
        for (original, replacement, expected) in [
            ("skill_id: \"\(Self.skill)\"", "skill_id: skill-42", "tenants[0].bot.channels.alice.skill_id: must be the skill's ID"),
            ("token_env: ACME_TELEGRAM_TOKEN", "token: \"123:abc\"", "unknown key 'token'"),
            ("token_env: ACME_TELEGRAM_TOKEN, ", "", "tenants[0].bot.channels.telegram: token_env is required"),
            ("telegram:", "viber:", "unknown key 'viber'"),
            (
                "alice: {skill_id: \"\(Self.skill)\", handoff_contact: \"+7 800 555-35-35\"}",
                "whatsapp: {phone_number_id: 106540352242922, token_env: T, app_secret_env: S, templates: [{name: Bad, language: ru, text: x}]}",
                "tenants[0].bot.channels.whatsapp.templates: A template's name"
            ),
        ] {
            let found = issues(Self.yaml.replacingOccurrences(of: original, with: replacement))
            #expect(found.contains { $0.contains(expected) }, "\(replacement) → \(found)")
        }
    }

    @Test func channelsAreSavedInTheManifestsTransactionAndAMissingVariableRefusesTheFile() async throws {
        try await TestEnvironment.with { env in
            var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
            let manifest = try parser.parse(Self.yaml)
            do {
                _ = try await env.services.manifestApplier(file: "t.yml", environment: [:]).apply(manifest, dryRun: false)
                Issue.record("applied without the token")
            } catch let error as ManifestError {
                #expect(error.description.contains("tenants[0].bot.channels.telegram.token_env: tenant acme"))
                #expect(error.description.contains("ACME_TELEGRAM_TOKEN is not set"))
            }
            #expect(try await env.scalar("SELECT count(*)::int FROM platform.tenants", as: Int.self) == 0)

            let applier = env.services.manifestApplier(file: "t.yml", environment: ["ACME_TELEGRAM_TOKEN": Self.token])
            let first = try await applier.apply(manifest, dryRun: false)
            #expect(first.map(\.description).contains("+ channel acme/assistant: telegram (set up in the background)"), "\(first)")
            #expect(first.map(\.description).contains("+ channel acme/assistant: alice"), "\(first)")
            try await env.services.directory.reload()
            let tenant = try #require(try await env.services.directory.tenant(slug: "acme"))
            let stored = try await env.services.channelConnections.list(in: tenant)
            #expect(stored.map(\.kind) == [.alice, .telegram] && stored.map(\.status) == [.active, .pending])
            #expect(stored.last?.secrets.token == Self.token && stored.last?.settings.dropPendingUpdates == true)
            #expect(stored.first?.settings.handoffContact == "+7 800 555-35-35")
            let jobs = try await env.scalar(
                "SELECT count(*)::int FROM platform.jobs WHERE kind = 'channel.connect' AND tenant_id = \(tenant.id)", as: Int.self)
            #expect(jobs == 1)
            // Alice again is no change.
            let second = try await applier.apply(manifest, dryRun: false)
            #expect(!second.contains { $0.text.contains("alice") }, "\(second)")

            let list = try await CLI.run(["channels", "list", "acme", "--json"], database: env.url)
            #expect(list.status == 0, "\(list.output)")
            let start = try #require(list.output.firstIndex(of: "["))
            let end = try #require(list.output.lastIndex(of: "]"))
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.output[start...end].utf8)) as? [[String: Any]])
            #expect(rows.compactMap { $0["kind"] as? String } == ["alice", "telegram"])
            #expect(rows.allSatisfy { $0["bot"] as? String == "assistant" })
            #expect(rows.first?["status"] as? String == "active" && rows.first?["name"] as? String == Self.skill)
            #expect((rows.first?["webhook_url"] as? String)?.contains("acme.vitrina.test") == true)
            #expect((rows.first?["webhook_url"] as? String)?.contains("/hooks/alice/") == true)
            #expect(rows.last?["status"] as? String == "pending" && rows.last?["detail"] is NSNull)
            #expect(!list.output.contains("AAEabcdefghij"))
            let table = try await CLI.run(["channels", "list", "acme"], database: env.url)
            #expect(table.status == 0 && table.output.contains("BOT") && table.output.contains("alice"))
            let unknown = try await CLI.run(["channels", "list", "nobody"], database: env.url)
            #expect(unknown.status == 2 && unknown.output.contains("nobody"))
        }
    }

    @Test func theCommandRefusesAFileWhoseVariableIsNotSetWithCodeTwo() async throws {
        try await TestEnvironment.with { env in
            let folder = try TemporaryFolder()
            try folder.write("t.yml", Self.yaml)
            let run = try await CLI.run(["tenants", "apply", folder.path + "/t.yml"], database: env.url)
            #expect(run.status == 2)
            #expect(run.output.contains("tenant acme") && run.output.contains("ACME_TELEGRAM_TOKEN"))
        }
    }
}

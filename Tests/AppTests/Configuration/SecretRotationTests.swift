import Foundation
import PostgresNIO
import Testing

@testable import App

@Suite("Secret rotation")
struct SecretRotationTests {
    static let oldHex = String(repeating: "0a", count: 32)
    static let old = SecretBox(secret: try! SecretKey.parse(oldHex))
    static let stray = SecretBox(secret: try! SecretKey.parse(String(repeating: "0b", count: 32)))

    /// An agency's model key, and in the shops alpha and bravo a bot's model key and the widget's identity secret, all
    /// sealed by `box`.
    @discardableResult
    static func seed(_ env: TestEnvironment, box: SecretBox) async throws -> [TenantScope] {
        try await env.makePartner("northwind")
        try await env.services.database.execute(
            "UPDATE platform.partners SET llm_key = \(try box.seal("sk-northwind")) WHERE slug = 'northwind'")
        var scopes: [TenantScope] = []
        for slug in ["alpha", "bravo"] {
            let scope = try await env.makeTenant(slug)
            try await env.withTenant(scope) { tenant in
                try await tenant.execute("UPDATE bots SET llm_key = \(try box.seal("sk-" + slug))")
                try await tenant.execute("UPDATE inbox_settings SET identity_secret = \(try box.seal("id-" + slug))")
            }
            scopes.append(scope)
        }
        return scopes
    }

    /// Every sealed value as stored, by place and row.
    static func stored(_ env: TestEnvironment, _ scopes: [TenantScope]) async throws -> [String: String] {
        var values: [String: String] = [:]
        for (slug, sealed) in try await env.services.database.values(
            (String, String).self, "SELECT slug, llm_key FROM platform.partners WHERE llm_key IS NOT NULL")
        {
            values["partners " + slug] = sealed
        }
        for scope in scopes {
            let rows = try await env.withTenant(scope) { tenant in
                try await tenant.values((String, String).self, "SELECT 'bots ' || id, llm_key FROM bots WHERE llm_key IS NOT NULL")
                    + tenant.values((String, String).self, "SELECT 'inbox', identity_secret FROM inbox_settings")
            }
            for (row, sealed) in rows { values[scope.schema.value + " " + row] = sealed }
        }
        return values
    }

    static func withOldKey(_ config: inout AppConfiguration) { config.oldSecretKeys = [oldHex] }

    @Test func rotateResealsThePlatformAndEveryTenantAndASecondRunChangesNothing() async throws {
        try await TestEnvironment.with(configure: Self.withOldKey) { env in
            let ring = env.services.secrets
            #expect(ring.olderKeyIDs == [Self.old.keyID])
            let scopes = try await Self.seed(env, box: Self.old)
            let before = try await Self.stored(env, scopes)
            #expect(before.count == 5)

            let dry = try await env.services.secretRotation.rotate(dryRun: true)
            #expect(dry.resealed == 5 && dry.current == 0 && dry.tenants == 2 && dry.succeeded)
            #expect(try await Self.stored(env, scopes) == before)

            let events = Locked<[String]>([])
            let report = try await env.services.secretRotation.rotate(progressEvery: 1) { event in
                if case .tenantsDone(let done, let total) = event { events.withLock { $0.append("\(done)/\(total)") } }
            }
            #expect(report.resealed == 5 && report.current == 0 && report.unreadable.isEmpty && report.succeeded)
            #expect(
                report.places.map { "\($0.place) \($0.resealed)" } == [
                    "platform.partners.llm_key 1", "bots.llm_key 2", "inbox_settings.identity_secret 2",
                    "channel_connections.secrets 0",
                ])
            #expect(events.withLock { $0 } == ["1/2", "2/2"])
            let after = try await Self.stored(env, scopes)
            let alone = SecretBox(secret: env.services.secretKey)
            for (row, sealed) in after {
                #expect(SecretBox.keyID(of: sealed) == ring.keyID && sealed != before[row])
                #expect(try alone.open(sealed) == Self.old.open(try #require(before[row])))
            }

            let again = try await env.services.secretRotation.rotate()
            #expect(again.resealed == 0 && again.current == 5 && again.succeeded)
            #expect(try await Self.stored(env, scopes) == after)
        }
    }

    @Test func anUnreadableValueIsReportedAndLeftAsItWasAndKeepsTheOldKeyFiles() async throws {
        try await TestEnvironment.with(configure: Self.withOldKey) { env in
            let scopes = try await Self.seed(env, box: Self.old)
            let strayValue = try Self.stray.seal("sk-stray")
            try await env.withTenant(scopes[1]) { try await $0.execute("UPDATE bots SET llm_key = \(strayValue)") }
            let folder = try TemporaryFolder()
            let files = SecretKeyFiles(dataDirectory: folder.path)
            try folder.write("secret.key.\(Self.old.keyID).old", Self.oldHex)

            let report = try await env.services.secretRotation.rotate(retiring: files)
            #expect(!report.succeeded && report.resealed == 4 && report.retired.isEmpty)
            let bot = try await env.withTenant(scopes[1]) { try await $0.value(Int.self, "SELECT id FROM bots WHERE llm_key IS NOT NULL") }
            #expect(
                report.unreadable == [
                    .init(
                        place: SealedPlace.tenant[0], tenant: "bravo", row: "\(try #require(bot))", keyID: Self.stray.keyID,
                        reason: .otherKey(Self.stray.keyID))
                ])
            #expect(report.unreadable[0].description.contains("tenant bravo: bots.llm_key row"))
            #expect(!report.unreadable[0].description.contains("sk-stray") && !report.unreadable[0].description.contains(strayValue))
            #expect(try await Self.stored(env, scopes)["\(scopes[1].schema.value) bots \(bot!)"] == strayValue)
            #expect(files.oldKeyPaths().count == 1)

            // Once the stray value is gone, a run ends clean and retires the old key file.
            try await env.withTenant(scopes[1]) { try await $0.execute("UPDATE bots SET llm_key = NULL") }
            let clean = try await env.services.secretRotation.rotate(retiring: files)
            #expect(clean.succeeded && clean.resealed == 0 && clean.current == 4)
            #expect(clean.retired == ["secret.key.\(Self.old.keyID).old"] && files.oldKeyPaths().isEmpty)
        }
    }

    @Test func statusCountsSealedValuesByPlaceAndKey() async throws {
        try await TestEnvironment.with(configure: Self.withOldKey) { env in
            let scopes = try await Self.seed(env, box: Self.old)
            try await env.withTenant(scopes[1]) {
                try await $0.execute("UPDATE inbox_settings SET identity_secret = \(try Self.stray.seal("x"))")
            }
            let status = try await env.services.secretRotation.status()
            let rows = status.rows.map { "\($0.place) \($0.keyID) \($0.standing.rawValue) \($0.values) \($0.tenants)" }
            let inbox = ["\(Self.old.keyID) older 1 1", "\(Self.stray.keyID) unknown 1 1"]
            #expect(
                rows == [
                    "platform.partners.llm_key \(Self.old.keyID) older 1 0", "bots.llm_key \(Self.old.keyID) older 2 2",
                ] + (Self.old.keyID < Self.stray.keyID ? inbox : inbox.reversed()).map { "inbox_settings.identity_secret " + $0 })
            #expect(status.count(.older) == 4 && status.count(.unknown) == 1 && status.count(.current) == 0 && status.tenants == 2)
            _ = try await env.services.secretRotation.rotate()
            let after = try await env.services.secretRotation.status()
            #expect(after.count(.older) == 0 && after.count(.current) == 4 && after.count(.unknown) == 1)
        }
    }

    @Test func aNewKeyFileReplacesTheOldOneWhichIsRetiredOnceEverythingIsResealed() async throws {
        let folder = try TemporaryFolder()
        try await TestEnvironment.with(configure: {
            $0.secretKey = nil; $0.dataDirectory = folder.path
        }) { env in
            let first = env.services.secrets
            let scopes = try await Self.seed(env, box: first)
            let before = try await Self.stored(env, scopes)
            let files = SecretKeyFiles(dataDirectory: folder.path)
            let (oldID, newID) = try files.replace()
            #expect(oldID == first.keyID)
            // What the next process builds: the new key file, the old one aside in the ring.
            let ring = SecretBox(
                secret: try SecretKey.resolve(configured: nil, dataDirectory: folder.path),
                older: try SecretKey.older(configured: [], dataDirectory: folder.path))
            #expect(ring.keyID == newID && ring.olderKeyIDs == [oldID])
            let rotation = SecretRotation(database: env.services.database, secrets: ring, logger: TestDatabase.logger)
            let report = try await rotation.rotate(retiring: files)
            #expect(report.succeeded && report.resealed == 5 && report.retired == ["secret.key.\(oldID).old"])
            let alone = SecretBox(secret: try SecretKey.resolve(configured: nil, dataDirectory: folder.path))
            for (row, sealed) in try await Self.stored(env, scopes) {
                #expect(try alone.open(sealed) == first.open(try #require(before[row])))
            }
        }
    }

    @Test func anExportCarriesNoSealedValue() async throws {
        try await TestEnvironment.with { env in
            let scopes = try await Self.seed(env, box: env.services.secrets)
            let folder = try TemporaryFolder()
            _ = try await env.services.exporter.export(slug: "alpha", to: folder.path + "/alpha.jsonl")
            let text = try String(contentsOfFile: folder.path + "/alpha.jsonl", encoding: .utf8)
            #expect(text.contains("assistant"))
            #expect(!text.contains(env.services.secrets.keyID + "."))
            for (row, sealed) in try await Self.stored(env, scopes) where row.hasPrefix(scopes[0].schema.value) {
                #expect(!text.contains(sealed))
            }
        }
    }

    @Test func theCommandCountsRotatesAndRefusesWhatItCannotRead() async throws {
        try await TestEnvironment.with { env in
            let scopes = try await Self.seed(env, box: Self.old)
            let before = try await Self.stored(env, scopes)
            let withOld = ["VITRINA_OLD_SECRET_KEYS": Self.oldHex]

            let status = try await CLI.run(["secrets", "status"], database: env.url, extraEnvironment: withOld)
            #expect(status.status == 0)
            #expect(status.output.contains("bots.llm_key") && status.output.contains("\(Self.old.keyID)  older"))
            #expect(status.output.contains("5 value(s) under older keys"))
            for secret in ["sk-alpha", "id-bravo", "sk-northwind", Self.oldHex] + before.values { #expect(!status.output.contains(secret)) }

            let blind = try await CLI.run(["secrets", "rotate"], database: env.url)
            #expect(blind.status == 1 && blind.output.contains("0 value(s) re-sealed, 0 already current, 5 unreadable"))
            #expect(blind.output.contains("tenant alpha: inbox_settings.identity_secret row true: sealed under key \(Self.old.keyID)"))
            let dry = try await CLI.run(["secrets", "rotate", "--dry-run", "--every", "1"], database: env.url, extraEnvironment: withOld)
            #expect(dry.status == 0 && dry.output.contains("Dry run: 5 value(s) would be re-sealed") && dry.output.contains("  2/2"))
            #expect(try await Self.stored(env, scopes) == before)

            let rotate = try await CLI.run(["secrets", "rotate"], database: env.url, extraEnvironment: withOld)
            #expect(rotate.status == 0 && rotate.output.contains("5 value(s) re-sealed, 0 already current, 0 unreadable (2 tenant(s))"))
            #expect(rotate.output.contains("remove VITRINA_OLD_SECRET_KEYS"))
            let again = try await CLI.run(["secrets", "rotate"], database: env.url)
            #expect(again.status == 0 && again.output.contains("0 value(s) re-sealed, 5 already current"))

            let refused = try await CLI.run(["secrets", "rotate", "--new-key"], database: env.url)
            #expect(refused.status == 2 && refused.output.contains("VITRINA_SECRET_KEY is set"))

            // The data folder's key file: a fresh key, everything re-sealed, the old file kept (servers started before
            // still seal with it until they restart); the next run retires it.
            let folder = try TemporaryFolder()
            try folder.write("secret.key", String(repeating: "5e", count: 32))
            let fileKey = ["VITRINA_SECRET_KEY": "", "VITRINA_DATA_DIR": folder.path]
            let fresh = try await CLI.run(["secrets", "rotate", "--new-key"], database: env.url, extraEnvironment: fileKey)
            #expect(fresh.status == 0 && fresh.output.contains("5 value(s) re-sealed") && fresh.output.contains("Old key files kept"))
            let newKey = try SecretKey.resolve(configured: nil, dataDirectory: folder.path)
            #expect(SecretKeyFiles(dataDirectory: folder.path).oldKeyPaths().count == 1)
            let later = try await CLI.run(["secrets", "rotate"], database: env.url, extraEnvironment: fileKey)
            #expect(later.status == 0 && later.output.contains("Retired the old key file"))
            #expect(SecretKeyFiles(dataDirectory: folder.path).oldKeyPaths().isEmpty)
            for sealed in try await Self.stored(env, scopes).values {
                #expect(SecretBox.keyID(of: sealed) == SecretBox(secret: newKey).keyID)
            }
        }
    }
}

import Crypto
import Foundation
import Testing

@testable import App

@Suite("Secret box and its key ring")
struct SecretBoxTests {
    static let current = try! SecretKey.parse(String(repeating: "5e", count: 32))
    static let old = try! SecretKey.parse(String(repeating: "0a", count: 32))

    @Test func aValueSealedUnderAnOldKeyOpensWithTheRingAndNotWithout() throws {
        let sealed = try SecretBox(secret: Self.old).seal("sk-live-123")
        let alone = SecretBox(secret: Self.current)
        let oldID = SecretBox(secret: Self.old).keyID
        #expect(throws: SecretBoxError.otherKey(oldID)) { try alone.open(sealed) }
        let ring = SecretBox(secret: Self.current, older: [Self.old, Self.current])
        #expect(ring.keyID == alone.keyID && ring.olderKeyIDs == [oldID])
        #expect(try ring.open(sealed) == "sk-live-123")
        // The ring seals under the current key only, which the box without the old key opens too.
        let fresh = try ring.seal("sk-live-123")
        #expect(fresh.hasPrefix(alone.keyID + ".") && !fresh.contains("sk-live"))
        #expect(try alone.open(fresh) == "sk-live-123")
        #expect(
            ring.standing(of: oldID) == .older && ring.standing(of: alone.keyID) == .current && ring.standing(of: "ffffffff") == .unknown)
    }

    @Test func resealMovesAnOlderValueToTheCurrentKeyAndLeavesACurrentOneAlone() throws {
        let ring = SecretBox(secret: Self.current, older: [Self.old])
        let moved = try #require(try ring.reseal(try SecretBox(secret: Self.old).seal("secret")))
        #expect(try SecretBox.keyID(of: moved) == ring.keyID && ring.open(moved) == "secret")
        #expect(try ring.reseal(moved) == nil)
        // A value that does not authenticate under the key it names is damaged, not decrypted into noise.
        var tampered = Array(moved.utf8)
        let middle = tampered.count / 2
        tampered[middle] = tampered[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SecretBoxError.malformed) { try ring.reseal(String(decoding: tampered, as: UTF8.self)) }
        #expect(throws: SecretBoxError.malformed) { try ring.open("no dot here") }
    }

    @Test func olderKeysComeFromTheEnvironmentAndTheDataFoldersOldKeyFiles() throws {
        let env = try AppConfiguration.fromEnvironment([
            "VITRINA_OLD_SECRET_KEYS": " \(String(repeating: "0a", count: 32)) , \(Data(repeating: 9, count: 32).base64EncodedString()),"
        ])
        #expect(env.oldSecretKeys.count == 2)
        let folder = try TemporaryFolder()
        #expect(try SecretKey.older(configured: env.oldSecretKeys, dataDirectory: folder.path).count == 2)
        try folder.write("secret.key.0000abcd.old", String(repeating: "0c", count: 32) + "\n")
        let keys = try SecretKey.older(configured: env.oldSecretKeys, dataDirectory: folder.path)
        #expect(keys.count == 3 && keys[0].key == Self.old.key)
        // A bad key is named by its place in the list, never echoed.
        let bad = "not-a-key-but-maybe-a-secret"
        #expect {
            _ = try SecretKey.older(configured: [String(repeating: "0a", count: 32), bad], dataDirectory: folder.path)
        } throws: { error in
            "\(error)".contains("VITRINA_OLD_SECRET_KEYS: key 2") && !"\(error)".contains(bad)
        }
    }

    @Test func replacingTheKeyFileKeepsTheOldKeyAsideUntilItIsRetired() throws {
        let folder = try TemporaryFolder()
        let files = SecretKeyFiles(dataDirectory: folder.path)
        #expect(throws: ConfigurationError.self) { try files.replace() }
        let first = try SecretKey.resolve(configured: nil, dataDirectory: folder.path)
        let (oldID, newID) = try files.replace()
        #expect(oldID == SecretBox(secret: first).keyID && newID != oldID)
        let second = try SecretKey.resolve(configured: nil, dataDirectory: folder.path)
        #expect(SecretBox(secret: second).keyID == newID)
        #expect(files.oldKeyPaths() == [folder.path + "/secret.key.\(oldID).old"])
        for path in [files.keyPath] + files.oldKeyPaths() {
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
        }
        let ring = SecretBox(secret: second, older: try SecretKey.older(configured: [], dataDirectory: folder.path))
        #expect(ring.olderKeyIDs == [oldID])
        #expect(try files.retire() == ["secret.key.\(oldID).old"])
        #expect(try files.oldKeyPaths().isEmpty && SecretKey.older(configured: [], dataDirectory: folder.path).isEmpty)
    }

    /// Start-up refused for a bad key (or a missing folder) says why and leaves nothing behind: before, the HTTP client
    /// made first was released without being shut down, which AsyncHTTPClient stops the process for.
    @Test func aStartRefusedForItsConfigurationSaysWhyAndStopsNothingElse() async throws {
        let database = try Database(url: DatabaseURL("postgres://nobody@127.0.0.1:1/none"), poolSize: 1, logger: TestDatabase.logger)
        var badKey = TestEnvironment.configuration()
        badKey.oldSecretKeys = ["not-a-key"]
        var noMigrations = TestEnvironment.configuration()
        noMigrations.resourcesDirectory = try TemporaryFolder().path + "/gone"
        for (config, reason) in [(badKey, "VITRINA_OLD_SECRET_KEYS: key 1"), (noMigrations, "/gone/")] {
            await #expect {
                _ = try await AppServices.make(configuration: config, database: database, logger: TestDatabase.logger)
            } throws: { error in
                "\(error)".contains(reason)
            }
        }
    }

    /// A migration that adds a sealed column says so ("(SecretBox)" in its comment); rotation must know the column.
    @Test func everySealedColumnInTheMigrationsIsAPlaceRotationKnows() throws {
        var declared: Set<String> = []
        for scope in ["platform", "tenant"] {
            let folder = TestDatabase.packageRoot + "/Migrations/" + scope
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".sql") {
                let lines = try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n")
                for (index, line) in lines.enumerated() where line.contains("--") && line.contains("(SecretBox)") {
                    guard let next = lines[(index + 1)...].first(where: { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") })
                    else { continue }
                    let words = next.replacingOccurrences(of: "ADD COLUMN", with: "").split(separator: " ")
                    if let column = words.first { declared.insert(scope + " " + column) }
                }
            }
        }
        #expect(declared.count >= 3)
        let known = Set(SealedPlace.all.map { $0.scope.rawValue + " " + $0.column })
        #expect(declared.subtracting(known) == [])
    }
}

import Crypto
import Foundation
import Testing

@testable import App

@Suite("Secret key")
struct SecretKeyTests {
    @Test func parsesHexAndBase64AndRefusesTheRest() throws {
        let hex = String(repeating: "ab", count: 32)
        #expect(try SecretKey.parse(hex).key.bitCount == 256)
        #expect(try SecretKey.parse(Data(repeating: 7, count: 32).base64EncodedString()).key.bitCount == 256)
        #expect(throws: ConfigurationError.self) { try SecretKey.parse("too-short") }
        #expect(throws: ConfigurationError.self) { try SecretKey.parse(String(repeating: "zz", count: 32)) }
    }

    @Test func isGeneratedOnceIntoTheDataFolderWithPrivatePermissions() throws {
        let folder = try TemporaryFolder()
        let first = try SecretKey.resolve(configured: nil, dataDirectory: folder.path)
        let second = try SecretKey.resolve(configured: nil, dataDirectory: folder.path)
        #expect(first.key == second.key)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.path + "/secret.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        // A configured key wins over the file.
        let configured = try SecretKey.resolve(configured: String(repeating: "01", count: 32), dataDirectory: folder.path)
        #expect(configured.key != first.key)
    }
}

import App
import Testing

@Suite("argon2id through libargon2")
struct PasswordHasherTests {
    @Test func hashesInPHCFormatWithOWASPParametersAndVerifies() throws {
        let hasher = PasswordHasher()
        let hash = try hasher.hash("correct horse battery staple")
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(hasher.verify("correct horse battery staple", against: hash))
        #expect(!hasher.verify("wrong password", against: hash))
        #expect(try hasher.hash("same") != hasher.hash("same"))
    }
}

import Testing

@testable import App

@Suite("Embeddings settings")
struct EmbeddingsSettingsTests {
    @Test func unsetStartsTheLocalServerAndOffTurnsItOff() throws {
        #expect(try AppConfiguration.fromEnvironment([:]).embeddings == EmbeddingsSettings())
        #expect(try AppConfiguration.fromEnvironment([:]).embeddings.source == .local)
        #expect(try AppConfiguration.fromEnvironment(["VITRINA_EMBEDDINGS_URL": "off"]).embeddings.source == .off)
        #expect(try AppConfiguration.fromEnvironment(["VITRINA_EMBEDDINGS_URL": "OFF"]).embeddings.source == .off)
    }

    @Test func readsARemoteEndpoint() throws {
        let config = try AppConfiguration.fromEnvironment([
            "VITRINA_EMBEDDINGS_URL": "https://api.example.com/v1/", "VITRINA_EMBEDDINGS_MODEL": "text-embedding-3-small",
            "VITRINA_EMBEDDINGS_KEY": "sk-1", "VITRINA_EMBEDDINGS_INPUT_TYPE": "false",
        ])
        #expect(config.embeddings.source == .remote("https://api.example.com"))
        #expect(config.embeddings.model == "text-embedding-3-small")
        #expect(config.embeddings.key == "sk-1")
        #expect(!config.embeddings.sendsInputType)
        #expect(try AppConfiguration.fromEnvironment(["VITRINA_EMBEDDINGS_URL": "http://127.0.0.1:8000"]).embeddings.sendsInputType)
    }

    @Test(arguments: ["127.0.0.1:8000", "ftp://example.com", "http://", "http://host/path?x=1"])
    func refusesWhatIsNotAnHTTPURL(_ url: String) {
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["VITRINA_EMBEDDINGS_URL": url]) }
    }
}

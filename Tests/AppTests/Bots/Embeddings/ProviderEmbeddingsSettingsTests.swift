import Foundation
import Testing

@testable import App

@Suite("A shop's provider embeds its knowledge: the setting")
struct ProviderEmbeddingsSettingsTests {
    func parse(_ llm: String) throws -> Manifest {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        return try parser.parse(
            """
            partners:
              - slug: north
                name: North
                llm: {provider: openai, model: gpt-4o-mini, embeddings: provider}
            tenants:
              - slug: acme
                name: Acme
                partner: north
                bot:
                  llm: \(llm)
            """)
    }

    func issues(_ llm: String) -> [String] {
        do {
            _ = try parse(llm)
            return []
        } catch let error as ManifestError {
            return error.issues.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func tenantsYMLNamesTheProvidersEmbeddingsAndRefusesGigaChatsWithASentence() throws {
        let manifest = try parse(
            "{provider: yandexgpt, model: yandexgpt-lite/latest, folder_id: b1g, embeddings: provider, embedding_model: text-search}")
        #expect(manifest.partners[0].llm?.settings.provider?.embeddings == .provider)
        let bot = try #require(manifest.tenants[0].bot.llm?.settings.provider)
        #expect(bot.embeddings == .provider && bot.embeddingModel == "text-search")
        #expect(ProviderEmbeddings.modelID(of: bot) == "yandex/text-search")
        #expect(ProviderEmbeddings.modelID(of: LLMProvider(kind: .openai, model: "gpt-4o-mini")) == "openai/text-embedding-3-small")

        let gigachat = issues("{provider: gigachat, model: GigaChat, embeddings: provider}")
        #expect(gigachat.count == 1)
        #expect(gigachat.first?.contains("embeddings: GigaChat's embeddings are not supported; keep local") == true)
        #expect(issues("{provider: openai, model: gpt-4o-mini, embeddings: remote}").first?.contains("must be local or provider") == true)
        #expect(issues("{mode: partner, embeddings: provider}").first?.contains("needs the provider that embeds") == true)
        #expect(
            issues("{provider: yandexgpt, model: m, folder_id: b1g, embedding_model: \"emb://x/y\"}").first?.contains("name the pair")
                == true)
        #expect(issues("{provider: gigachat, model: GigaChat, embeddings: local}").isEmpty)
    }

    @Test func storedSettingsWithoutTheEmbeddingsReadAsLocalAndLocalIsNotWritten() throws {
        let old =
            #"{"baseURL":"https://api.openai.com/v1","iamToken":false,"kind":"openai","maxTokens":500,"model":"m","temperature":0.2,"timeoutSeconds":20}"#
        let provider = try JSONDecoder().decode(LLMProvider.self, from: Data(old.utf8))
        #expect(provider.embeddings == .local && provider.embeddingModel == nil && provider.authURL == nil)
        let written = try PartnerModelStore.json(provider)
        #expect(!written.contains("embedding") && written.replacingOccurrences(of: "\\/", with: "/") == old)
        var chosen = provider
        chosen.embeddings = .provider
        chosen.embeddingModel = "text-embedding-3-large"
        let decoded = try JSONDecoder().decode(LLMProvider.self, from: Data(try PartnerModelStore.json(chosen).utf8))
        #expect(decoded == chosen)
        let settings = LLMSettings(json: LLMSettings(mode: .own, provider: chosen).json)
        #expect(settings.provider == chosen)
        // The panel's forms show the embeddings: what was typed decides (a form left on the installation's model is local).
        let typed = LLMProvider(kind: .openai, model: "gpt-4.1-mini")
        #expect(LLMEdit.merged(typed, over: chosen).embeddings == .local)
        #expect(LLMEdit.merged(typed, over: chosen).embeddingModel == nil)
        #expect(LLMEdit.merged(LLMProvider(kind: .gigachat, model: "GigaChat"), over: chosen).embeddings == .local)
        // A bot that follows its agency embeds as the agency says, whatever its own stored provider says.
        #expect(
            EmbeddingChoice.resolve(bot: LLMSettings(mode: .partner, provider: chosen), botKey: nil, agency: provider, agencyKey: nil)
                == .installation)
        #expect(
            EmbeddingChoice.resolve(bot: LLMSettings(mode: .off, provider: chosen), botKey: nil, agency: nil, agencyKey: nil)
                == .installation)
        #expect(
            EmbeddingChoice.resolve(bot: LLMSettings(mode: .own, provider: chosen), botKey: "k", agency: nil, agencyKey: nil)
                == .provider(chosen, sealedKey: "k"))
    }

    @Test func theBotAPIShowsAndSwitchesTheEmbeddingsAndTheSwitchQueuesTheReembedding() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let token = try await env.tenantKey("tea")
            let jobs: @Sendable () async throws -> Int = {
                try await env.services.database.value(
                    Int.self, "SELECT count(*)::int FROM platform.jobs WHERE kind = 'bot.embed-knowledge' AND tenant_id = \(tenant.id)")
                    ?? 0
            }
            try await env.withApp { client throws in
                let api = APIClient(client, token: token)
                let before = try await api.get("/api/v1/bot").object
                #expect(before["embeddings"] as? String == "local" && before["embedding_model"] is NSNull)
                // A bot that follows its agency has no provider of its own to embed with.
                let following = try await api.call(.put, "/api/v1/bot", json: #"{"embeddings": "provider"}"#)
                #expect(following.isProblem("validation", .unprocessableContent) && following.problemFields == ["embeddings"])

                try await useProviderEmbeddings(env, tenant, url: "https://gigachat.example", kind: .gigachat, embeddings: .local)
                let gigachat = try await api.call(.put, "/api/v1/bot", json: #"{"embeddings": "provider"}"#)
                #expect(gigachat.isProblem("validation", .unprocessableContent))
                let message = (gigachat.object["errors"] as? [[String: Any]])?.first?["message"] as? String
                #expect(message?.hasPrefix("GigaChat's embeddings are not supported; keep local") == true)

                try await useProviderEmbeddings(env, tenant, url: "https://api.openai.com", embeddings: .local)
                let queued = try await jobs()
                let renamed = try await api.call(.put, "/api/v1/bot", json: #"{"name": "Чайный помощник"}"#)
                #expect(renamed.status == .ok && renamed.object["embeddings"] as? String == "local")
                #expect(try await jobs() == queued)

                let switched = try await api.call(
                    .put, "/api/v1/bot", json: #"{"embeddings": "provider", "embedding_model": "text-embedding-3-large"}"#)
                #expect(switched.status == .ok && switched.object["embeddings"] as? String == "provider")
                #expect(switched.object["embedding_model"] as? String == "text-embedding-3-large")
                #expect(try await jobs() == queued + 1)
                let stored = try await env.services.tenants.withTenant(tenant) { connection in
                    try await connection.value(String.self, "SELECT llm->'provider'->>'embeddings' FROM bots LIMIT 1")
                }
                #expect(stored == "provider")
            }
        }
    }
}

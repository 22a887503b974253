import Foundation
import Testing

@testable import App

/// Points the shop's first bot at its own OpenAI-compatible provider on `url` (a fake), its embeddings as `embeddings`
/// says, with its own sealed key, as the panel and the API store them.
func useProviderEmbeddings(
    _ env: TestEnvironment, _ tenant: TenantRecord, url: String, kind: LLMProvider.Kind = .openai,
    embeddings: LLMProvider.EmbeddingsSource = .provider, key: String = "sk-shop-embeddings"
) async throws {
    var provider = LLMProvider(kind: kind, baseURL: url + "/v1", model: kind == .gigachat ? "GigaChat" : "gpt-4o-mini")
    provider.embeddings = embeddings
    let settings = LLMSettings(mode: .own, provider: provider)
    let sealed = try env.services.secrets.seal(key)
    try await env.services.tenants.withTenant(tenant) { connection in
        try await connection.execute("UPDATE bots SET llm = \(settings.json)::jsonb, llm_key = \(sealed)")
    }
}

/// The shop's passages' models, and how many passages each has.
func passageModels(_ env: TestEnvironment, _ tenant: TenantRecord) async throws -> [String: Int] {
    let rows = try await env.services.tenants.withTenant(tenant) { connection in
        try await connection.values(
            (String, Int).self,
            "SELECT coalesce(model, '(none)'), count(*)::int FROM knowledge_passages WHERE vector IS NOT NULL OR model IS NULL GROUP BY 1")
    }
    return Dictionary(uniqueKeysWithValues: rows)
}

/// How retrieval ran for the bot's answer to `text` (its stored explanation's `retrieval`).
func retrieval(_ env: TestEnvironment, _ tenant: TenantRecord, _ text: String) async throws -> (BotReply, String) {
    let reply = try await env.services.botEngine.reply(to: ShopperMessage(text: text, channel: .test), in: tenant)
    let mode = try await env.services.tenants.withTenant(tenant) { connection in
        try await connection.value(
            String.self,
            "SELECT explanation->>'retrieval' FROM messages WHERE conversation_id = \(reply.conversationID) AND author = 'bot' ORDER BY id DESC LIMIT 1"
        )
    }
    return (reply, mode ?? "")
}

@Suite("A shop's provider embeds its knowledge")
struct ProviderEmbeddingsTests {
    @Test func aShopSwitchedToItsProviderIsReembeddedByTheJobAndItsQueriesGoToTheProvider() async throws {
        let local = FakeEmbeddingsServer()
        let provider = FakeEmbeddingsServer()
        let localURL = try await local.start()
        let providerURL = try await provider.start()
        try await TestEnvironment.with(embeddings: EmbeddingsEndpoint(baseURL: localURL, model: "fake-model")) { env in
            let tea = try await makeBotShop(env, "tea")
            let coffee = try await makeBotShop(env, "coffee")
            _ = await env.worker().runDue()
            let count = try await passageModels(env, tea)["fake-model"] ?? 0
            #expect(count > 5)
            #expect(try await passageModels(env, tea) == ["fake-model": count])

            try await useProviderEmbeddings(env, tea, url: providerURL)
            let queued = try await env.services.database.values(
                String.self,
                "SELECT t.slug FROM platform.jobs j JOIN platform.tenants t ON t.id = j.tenant_id WHERE j.status = 'queued' AND j.kind = 'bot.embed-knowledge'"
            )
            #expect(queued == ["tea"])
            // Until the job has run, the shop's queries are the provider's and its passages the installation's: the
            // query is dropped and retrieval is lexical, never a comparison across models.
            let (before, mode) = try await retrieval(env, tea, "сроки доставки")
            #expect(mode == "lexical (the knowledge is not embedded yet)" && before.answer?.entry?.slug == "delivery-time")

            _ = await env.worker().runDue()
            #expect(try await passageModels(env, tea) == ["openai/text-embedding-3-small": count])
            #expect(try await passageModels(env, coffee) == ["fake-model": count])
            // The bot answers with the same provider's chat model too: its embeddings requests are those with texts.
            let embedded = { provider.requests.filter { !$0.input.isEmpty } }
            #expect(embedded().contains { $0.input.count > 1 })
            for request in embedded() {
                #expect(request.path == "/v1/embeddings" && request.model == "text-embedding-3-small")
                #expect(request.headers["authorization"] == "Bearer sk-shop-embeddings" && !request.hasInputType)
            }

            let localBefore = local.requests.count
            let (semantic, teaMode) = try await retrieval(env, tea, "когда привезут")
            #expect(teaMode == "lexical+semantic" && semantic.answer?.candidates.first?.semantic != nil)
            #expect(embedded().last?.input == ["когда привезут"] && local.requests.count == localBefore)
            // The other shop goes on with the installation's model.
            let (_, coffeeMode) = try await retrieval(env, coffee, "когда отправите посылку")
            #expect(coffeeMode == "lexical+semantic" && local.requests.last?.input == ["когда отправите посылку"])
            #expect(embedded().allSatisfy { $0.input != ["когда отправите посылку"] })

            // Switching back re-embeds with the installation's model.
            try await useProviderEmbeddings(env, tea, url: providerURL, embeddings: .local)
            _ = await env.worker().runDue()
            #expect(try await passageModels(env, tea) == ["fake-model": count])
            let (_, backMode) = try await retrieval(env, tea, "сколько идёт доставка")
            #expect(backMode == "lexical+semantic" && local.requests.last?.input == ["сколько идёт доставка"])
        }
        try await local.stop()
        try await provider.stop()
    }

    @Test func aFailingProviderLeavesAnswersLexicalAndItsJobToBeTriedAgain() async throws {
        let local = FakeEmbeddingsServer()
        let provider = FakeEmbeddingsServer()
        let localURL = try await local.start()
        let providerURL = try await provider.start()
        try await TestEnvironment.with(embeddings: EmbeddingsEndpoint(baseURL: localURL, model: "fake-model")) { env in
            let tea = try await makeBotShop(env, "tea")
            _ = await env.worker().runDue()
            provider.behaviour = .status(401, #"{"error": {"message": "Incorrect API key provided"}}"#)
            try await useProviderEmbeddings(env, tea, url: providerURL)
            _ = await env.worker().runDue()
            let job = try await env.services.database.value(
                (String, String?).self,
                "SELECT status, last_error FROM platform.jobs WHERE kind = 'bot.embed-knowledge' ORDER BY id DESC LIMIT 1")
            #expect(job?.0 == "queued" && job?.1?.contains("Incorrect API key provided") == true)
            #expect(try await passageModels(env, tea).keys.sorted() == ["fake-model"])

            let (reply, mode) = try await retrieval(env, tea, "возврат товара")
            #expect(reply.answer?.entry?.slug == "returns" && mode == "lexical (embeddings unavailable)")
        }
        try await local.stop()
        try await provider.stop()
    }

    @Test func shopsOfAnAgencyWhoseYandexModelEmbedsFollowIt() async throws {
        let local = FakeEmbeddingsServer()
        let localURL = try await local.start()
        try await withScriptedProvider { yandex, yandexURL, _ in
            yandex.script { YandexProviderEmbeddingsTests.reply($0) }
            try await TestEnvironment.with(embeddings: EmbeddingsEndpoint(baseURL: localURL, model: "fake-model")) { env in
                try await env.makePartner("north")
                var provider = LLMProvider(kind: .yandexgpt, baseURL: yandexURL, model: "yandexgpt-lite/latest", folderID: "b1gfolder")
                provider.embeddings = .provider
                let sealed = try env.services.secrets.seal("AQVN-agency-key")
                try await env.services.database.execute(
                    "UPDATE platform.partners SET llm = \(try PartnerModelStore.json(provider))::jsonb, llm_key = \(sealed) WHERE slug = 'north'"
                )
                let acme = try await makeBotShop(env, "acme")
                let solo = try await makeBotShop(env, "solo")
                _ = await env.worker().runDue()
                let count = try await passageModels(env, acme)["fake-model"] ?? 0
                #expect(count > 5 && yandex.requests.isEmpty)

                // The shop joins the agency: its bot follows the agency's model, whose embeddings are Yandex's.
                try await env.services.database.execute(
                    "UPDATE platform.tenants SET partner_id = (SELECT id FROM platform.partners WHERE slug = 'north') WHERE slug = 'acme'")
                _ = await env.worker().runDue()
                #expect(try await passageModels(env, acme) == ["yandex/text-search": count])
                #expect(try await passageModels(env, solo) == ["fake-model": count])
                let embedded = { yandex.requests.filter { $0.path == "/foundationModels/v1/textEmbedding" } }
                #expect(yandex.requests.count == count && embedded().count == count)
                for request in embedded() {
                    #expect(request.headers["authorization"] == "Api-Key AQVN-agency-key")
                    #expect(request.json?["modelUri"] as? String == "emb://b1gfolder/text-search-doc/latest")
                }
                let (_, mode) = try await retrieval(env, acme, "когда привезут")
                #expect(mode == "lexical+semantic")
                // (The agency's chat model is asked too, at its completion address.)
                #expect(embedded().last?.json?["modelUri"] as? String == "emb://b1gfolder/text-search-query/latest")
                #expect(embedded().last?.json?["text"] as? String == "когда привезут")

                // The agency goes back to the installation's model: its shops re-embed.
                provider.embeddings = .local
                try await env.services.database.execute(
                    "UPDATE platform.partners SET llm = \(try PartnerModelStore.json(provider))::jsonb WHERE slug = 'north'")
                _ = await env.worker().runDue()
                #expect(try await passageModels(env, acme) == ["fake-model": count])
            }
        }
        try await local.stop()
    }

    @Test func theChoiceIsKeptInMemoryUntilTheShopChanges() async throws {
        try await TestEnvironment.with(embeddings: EmbeddingsEndpoint(baseURL: "http://127.0.0.1:9", model: "fake-model")) { env in
            let tea = try await makeBotShop(env, "tea")
            let snapshots = env.services.botSnapshots
            snapshots.setListening(true)
            let read = { try await snapshots.embedding(for: tea, tenants: env.services.tenants, logger: TestDatabase.logger) }
            #expect(try await read() == .installation)
            try await useProviderEmbeddings(env, tea, url: "http://127.0.0.1:9")
            // No notification was heard yet: the choice in memory stands, no read.
            #expect(try await read() == .installation)
            snapshots.invalidate(schema: tea.schema.value)
            guard case .provider(let provider, let key) = try await read() else {
                Issue.record("the provider's embeddings were not chosen")
                return
            }
            #expect(provider.embeddings == .provider && key != nil)
            #expect(env.services.embeddingModels.modelID(for: try await read()) == "openai/text-embedding-3-small")
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("Bot API: the language model")
struct BotLLMAPITests {
    static let own = #"""
        {"llm": {"mode": "own", "provider": {"kind": "openai", "base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini",
        "temperature": 0.3, "max_tokens": 300, "timeout": 12}, "api_key": "sk-api-secret-1234", "instructions": "Будь краток.",
        "on_uncited": "handoff"}}
        """#

    @Test func settingsRoundTripWithoutEverShowingTheKey() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let token = try await env.tenantKey("tea")
            try await env.withApp { client throws in
                let api = APIClient(client, token: token)
                let before = try await api.get("/api/v1/bot").object["llm"] as? [String: Any]
                #expect(before?["mode"] as? String == "partner" && before?["key_set"] as? Bool == false && before?["provider"] is NSNull)

                let saved = try await api.call(.put, "/api/v1/bot", json: Self.own)
                #expect(saved.status == .ok && !saved.text.contains("sk-api-secret-1234") && !saved.text.contains("1234\""))
                let llm = try #require(saved.object["llm"] as? [String: Any])
                #expect(llm["mode"] as? String == "own" && llm["key_set"] as? Bool == true && llm["on_uncited"] as? String == "handoff")
                let provider = try #require(llm["provider"] as? [String: Any])
                #expect(provider["model"] as? String == "gpt-4o-mini" && provider["max_tokens"] as? Int == 300)
                #expect(provider["ca_bundle"] == nil && provider["folder_id"] is NSNull)
                for path in ["/api/v1/bot", "/api/v1/bots", "/api/v1/bots/assistant"] {
                    let read = try await api.get(path)
                    #expect(read.status == .ok && !read.text.contains("sk-api-secret") && read.text.contains("\"key_set\":true"), "\(path)")
                }
                let sealed = try #require(
                    try await env.services.tenants.withTenant(tenant) {
                        try await $0.value(String.self, "SELECT llm_key FROM bots LIMIT 1")
                    })
                let opened = try env.services.secrets.open(sealed)
                #expect(!sealed.contains("sk-api-secret") && opened == "sk-api-secret-1234")

                // Without api_key the key stays; a new model at the same address is fine.
                let renamed = try await api.call(.put, "/api/v1/bot", json: #"{"llm": {"provider": {"model": "gpt-4.1-mini"}}}"#)
                #expect(renamed.status == .ok && (renamed.object["llm"] as? [String: Any])?["key_set"] as? Bool == true)
                // Another address without the key again is refused; with null the key goes.
                let moved = try await api.call(
                    .put, "/api/v1/bot", json: #"{"llm": {"provider": {"base_url": "https://llm.example.net/v1"}}}"#)
                #expect(moved.isProblem("validation", .unprocessableContent) && moved.problemFields == ["llm.api_key"])
                let removed = try await api.call(.put, "/api/v1/bot", json: #"{"llm": {"api_key": null}}"#)
                #expect((removed.object["llm"] as? [String: Any])?["key_set"] as? Bool == false)
            }
            let audit = try await env.services.database.values(
                String.self, "SELECT details::text FROM platform.audit_log WHERE action = 'bot.model_changed' ORDER BY id")
            #expect(audit.count == 3 && audit.allSatisfy { !$0.contains("sk-api-secret") })
        }
    }

    @Test func refusedSettingsNameTheirFieldsAndTheOperatorsCABundleStays() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let token = try await env.tenantKey("tea")
            let operatorProvider = LLMProvider(kind: .gigachat, model: "GigaChat", caBundle: "/etc/vitrina/russian-trusted-ca.pem")
            try await env.services.tenants.withTenant(tenant) { connection in
                try await connection.execute(
                    "UPDATE bots SET llm = \(LLMSettings(mode: .own, provider: operatorProvider).json)::jsonb")
            }
            try await env.withApp { client throws in
                let api = APIClient(client, token: token)
                let shown = try await api.get("/api/v1/bot")
                #expect(!shown.text.contains("russian-trusted-ca") && !shown.text.contains("ca_bundle"))
                let bundle = try await api.call(.put, "/api/v1/bot", json: #"{"llm": {"provider": {"ca_bundle": "/etc/passwd"}}}"#)
                #expect(bundle.isProblem("validation", .unprocessableContent) && bundle.problemFields == ["llm.provider.ca_bundle"])
                let folder = try await api.call(
                    .put, "/api/v1/bot", json: #"{"llm": {"provider": {"kind": "yandexgpt", "model": "yandexgpt/latest"}}}"#)
                #expect(folder.isProblem("validation", .unprocessableContent) && folder.problemFields == ["llm.provider.folder_id"])
                let url = try await api.call(.put, "/api/v1/bot", json: #"{"llm": {"provider": {"base_url": "gopher://x"}}}"#)
                #expect(url.problemFields == ["llm.provider.base_url"])
                let local = try await api.call(
                    .put, "/api/v1/bot", json: #"{"llm": {"provider": {"base_url": "http://127.0.0.1:8080/v1"}}}"#)
                #expect(local.problemFields == ["llm.provider.base_url"] && local.text.contains("own network"))
                let mode = try await api.call(.put, "/api/v1/bot", json: #"{"llm": {"mode": "mine", "on_uncited": "shrug"}}"#)
                #expect(mode.problemFields == ["llm.mode", "llm.on_uncited"])
                let changed = try await api.call(.put, "/api/v1/bot", json: #"{"llm": {"provider": {"model": "GigaChat-Pro"}}}"#)
                #expect(changed.status == .ok)
            }
            let stored = try await env.services.tenants.withTenant(tenant) { try await BotStore().find(id: nil, on: $0) }
            #expect(stored?.llm.provider?.model == "GigaChat-Pro")
            #expect(stored?.llm.provider?.caBundle == "/etc/vitrina/russian-trusted-ca.pem")
        }
    }

    /// A host name that resolves to the server's own network is refused like the address itself: on a change, on a new
    /// bot, and for a test (TestHosts says where the names lead).
    @Test func aNameThatLeadsToTheServersNetworkIsRefusedLikeTheAddress() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let token = try await env.tenantKey("tea")
            try await env.withApp { client throws in
                let api = APIClient(client, token: token)
                // Spaces around the address are trimmed before it is stored: the look-up reads it as stored.
                for url in ["https://llm.corp.example/v1", "http://METADATA.cloud.example./latest", "  https://llm.corp.example/v1 "] {
                    let llm = #"{"mode": "own", "provider": {"kind": "openai", "base_url": "\#(url)", "model": "m"}, "api_key": "sk-1"}"#
                    let changed = try await api.call(.put, "/api/v1/bot", json: #"{"llm": \#(llm)}"#)
                    #expect(changed.problemFields == ["llm.provider.base_url"] && changed.text.contains("own network"), "\(url)")
                    let tested = try await api.call(.post, "/api/v1/bot/llm/test", json: llm)
                    #expect(tested.problemFields == ["llm.provider.base_url"], "\(url)")
                    let provider = #"{"kind": "openai", "base_url": "\#(url)", "model": "m"}"#
                    let created = try await api.call(
                        .post, "/api/v1/bots", json: #"{"slug": "second", "llm": {"mode": "own", "provider": \#(provider)}}"#)
                    #expect(created.problemFields == ["llm.provider.base_url"], "\(url)")
                }
                let publicProvider = #"{"kind": "openai", "base_url": "https://llm.public.example/v1", "model": "m"}"#
                let fine = try await api.call(
                    .put, "/api/v1/bot", json: #"{"llm": {"mode": "own", "provider": \#(publicProvider), "api_key": "sk-1"}}"#)
                #expect(fine.status == .ok)
            }
            let stored = try await env.services.tenants.withTenant(tenant) { try await BotStore().find(id: nil, on: $0) }
            #expect(stored?.llm.provider?.baseURL == "https://llm.public.example/v1")
            let bots = try await env.services.tenants.withTenant(tenant) { try await $0.value(Int.self, "SELECT count(*)::int FROM bots") }
            #expect(bots == 1)
        }
    }

    /// `llm.provider.embeddings` and `embedding_model` are shown and accepted, as the top-level `embeddings` says them.
    @Test func theProvidersEmbeddingsRoundTripInTheProvider() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let token = try await env.tenantKey("tea")
            try await env.withApp { client throws in
                let api = APIClient(client, token: token)
                let saved = try await api.call(.put, "/api/v1/bot", json: Self.own)
                var provider = try #require((saved.object["llm"] as? [String: Any])?["provider"] as? [String: Any])
                #expect(provider["embeddings"] as? String == "local" && provider["embedding_model"] is NSNull)

                let chosen = try await api.call(
                    .put, "/api/v1/bot",
                    json: #"{"llm": {"provider": {"embeddings": "provider", "embedding_model": "text-embedding-3-large"}}}"#)
                #expect(chosen.status == .ok && chosen.object["embeddings"] as? String == "provider")
                provider = try #require((chosen.object["llm"] as? [String: Any])?["provider"] as? [String: Any])
                #expect(
                    provider["embeddings"] as? String == "provider" && provider["embedding_model"] as? String == "text-embedding-3-large")
                let read = try #require(((try await api.get("/api/v1/bot")).object["llm"] as? [String: Any])?["provider"] as? [String: Any])
                #expect(read["embedding_model"] as? String == "text-embedding-3-large")
                // Another field leaves them; null is the provider's default model.
                let renamed = try await api.call(
                    .put, "/api/v1/bot", json: #"{"llm": {"provider": {"model": "gpt-4.1-mini", "embedding_model": null}}}"#)
                #expect(renamed.object["embeddings"] as? String == "provider" && renamed.object["embedding_model"] is NSNull)

                let bad = try await api.call(.put, "/api/v1/bot", json: #"{"llm": {"provider": {"embeddings": "theirs"}}}"#)
                #expect(bad.isProblem("validation", .unprocessableContent) && bad.problemFields == ["llm.provider.embeddings"])
                let giga = try await api.call(
                    .put, "/api/v1/bot",
                    json: #"{"llm": {"provider": {"kind": "gigachat", "model": "GigaChat", "embeddings": "provider"}, "api_key": null}}"#)
                #expect(giga.problemFields == ["llm.provider.embeddings"] && giga.text.contains("GigaChat's embeddings are not supported"))
                let name = try await api.call(.put, "/api/v1/bot", json: #"{"llm": {"provider": {"embedding_model": ""}}}"#)
                #expect(name.problemFields == ["llm.provider.embedding_model"])
                // A new kind starts local.
                let moved = try await api.call(
                    .put, "/api/v1/bot", json: #"{"llm": {"provider": {"kind": "gigachat", "model": "GigaChat"}, "api_key": null}}"#)
                #expect(moved.status == .ok && moved.object["embeddings"] as? String == "local")
            }
            let stored = try await env.services.tenants.withTenant(tenant) { try await BotStore().find(id: nil, on: $0) }
            #expect(stored?.llm.provider?.kind == .gigachat && stored?.llm.provider?.embeddings == .local)
        }
    }

    @Test func theTestEndpointAsksTheModelAndStoresNothing() async throws {
        let fake = FakeOpenAIServer.make()
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                let tenant = try await makeBotShop(env, "tea")
                let token = try await env.tenantKey("tea")
                let reader = try await env.tenantKey("tea", scopes: [.botRead])
                try await env.withApp(configure: { $0.allowPrivateModelHosts = true }) { client throws in
                    let api = APIClient(client, token: token)
                    let body =
                        #"{"mode": "own", "provider": {"kind": "openai", "base_url": "\#(url)/v1", "model": "gpt-4o-mini"}, "api_key": "sk-t"}"#
                    #expect(
                        try await APIClient(client, token: reader).call(.post, "/api/v1/bot/llm/test", json: body).isProblem(
                            "forbidden", .forbidden))
                    let ok = try await api.call(.post, "/api/v1/bot/llm/test", json: body)
                    #expect(
                        ok.status == .ok && ok.object["ok"] as? Bool == true && ok.object["model"] as? String == "gpt-4o-mini-2024-07-18")
                    #expect((ok.object["tokens"] as? [String: Any])?["total"] as? Int == 29 && ok.object["milliseconds"] is Int)
                    #expect(fake.requests.last?.headers["authorization"] == "Bearer sk-t")
                    fake.queue(.reply(401, FakeOpenAIServer.error("Incorrect API key provided.", code: "invalid_api_key")))
                    let refused = try await api.call(.post, "/api/v1/bots/assistant/llm/test", json: body)
                    #expect(refused.status == .ok && refused.object["ok"] as? Bool == false)
                    #expect((refused.object["error"] as? String)?.contains("refused the key") == true)
                    // The stored settings: the bot follows its agency, which gives none.
                    #expect(try await api.call(.post, "/api/v1/bot/llm/test").isProblem("conflict", .conflict))
                    #expect(try await api.call(.post, "/api/v1/bots/nope/llm/test", json: body).isProblem("not-found", .notFound))
                }
                let stored = try await env.services.tenants.withTenant(tenant) { try await BotStore().find(id: nil, on: $0) }
                #expect(stored?.llm == LLMSettings())
            }
        }
    }

    @Test func theTestEndpointRefusesTheServersOwnNetwork() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let token = try await env.tenantKey("tea")
            try await env.withApp { client throws in
                let body = #"{"mode": "own", "provider": {"kind": "openai", "base_url": "http://0x7f000001:8080/v1", "model": "m"}}"#
                let refused = try await APIClient(client, token: token).call(.post, "/api/v1/bot/llm/test", json: body)
                #expect(refused.isProblem("validation", .unprocessableContent) && refused.problemFields == ["llm.provider.base_url"])
            }
        }
    }
}

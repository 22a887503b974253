import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("Partner API: the agency's language model")
struct PartnerLLMAPITests {
    static let give = #"""
        {"provider": {"kind": "openai", "base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini", "temperature": 0.2,
        "max_tokens": 500, "timeout": 20}, "api_key": "sk-agency-secret-4242"}
        """#

    static func row(_ env: TestEnvironment, _ slug: String) async throws -> (String?, String?) {
        try #require(
            try await env.services.database.value(
                (String?, String?).self, "SELECT llm::text, llm_key FROM platform.partners WHERE slug = \(slug)"))
    }

    static func agencies(_ env: TestEnvironment) async throws {
        try await env.makePartner("north")
        try await env.makePartner("south")
        let south = LLMProvider(kind: .gigachat, model: "GigaChat", caBundle: "/etc/vitrina/russian-trusted-ca.pem")
        let sealed = try env.services.secrets.seal("sk-south-9999")
        try await env.services.database.execute(
            """
            UPDATE platform.partners SET llm = \(try PartnerModelStore.json(south))::jsonb, llm_key = \(sealed)
            WHERE slug = 'south'
            """)
        try await env.services.directory.reload()
    }

    @Test func roundTripNeverShowsTheKeyAndLeavesAnotherAgencyAlone() async throws {
        try await TestEnvironment.with { env in
            try await Self.agencies(env)
            let southBefore = try await Self.row(env, "south")
            let token = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let api = APIClient(client, token: token)
                let before = try await api.get("/api/v1/partner/llm")
                #expect(before.status == .ok && before.object["provider"] is NSNull && before.object["key_set"] as? Bool == false)

                let saved = try await api.call(.put, "/api/v1/partner/llm", json: Self.give)
                #expect(saved.status == .ok && !saved.text.contains("sk-agency-secret") && saved.object["key_set"] as? Bool == true)
                let provider = try #require(saved.object["provider"] as? [String: Any])
                #expect(provider["model"] as? String == "gpt-4o-mini" && provider["max_tokens"] as? Int == 500)
                #expect(provider["ca_bundle"] == nil && provider["folder_id"] is NSNull && provider["embeddings"] as? String == "local")
                let read = try await api.get("/api/v1/partner/llm")
                #expect(read.status == .ok && !read.text.contains("sk-agency-secret") && read.text.contains("\"key_set\":true"))
                let (llm, sealed) = try await Self.row(env, "north")
                #expect(llm?.contains("gpt-4o-mini") == true && sealed.map { !$0.contains("sk-agency") } == true)
                #expect(try sealed.map(env.services.secrets.open) == "sk-agency-secret-4242")

                // Without api_key the key stays at the same address; elsewhere it must be sent again; null removes it.
                let renamed = try await api.call(.put, "/api/v1/partner/llm", json: #"{"provider": {"model": "gpt-4.1-mini"}}"#)
                #expect(renamed.status == .ok && renamed.object["key_set"] as? Bool == true)
                let moved = try await api.call(
                    .put, "/api/v1/partner/llm", json: #"{"provider": {"base_url": "https://llm.example.net/v1"}}"#)
                #expect(moved.isProblem("validation", .unprocessableContent) && moved.problemFields == ["api_key"])
                let local = try await api.call(
                    .put, "/api/v1/partner/llm", json: #"{"provider": {"base_url": "http://192.168.1.10/v1"}, "api_key": "sk-x"}"#)
                #expect(local.problemFields == ["provider.base_url"] && local.text.contains("own network"))
                // A name that leads there (TestHosts) is refused the same way, to save or to test.
                let named = #"{"provider": {"base_url": "https://llm.corp.example/v1"}, "api_key": "sk-x"}"#
                #expect(try await api.call(.put, "/api/v1/partner/llm", json: named).problemFields == ["provider.base_url"])
                let padded = #"{"provider": {"base_url": " https://llm.corp.example/v1 "}, "api_key": "sk-x"}"#
                #expect(try await api.call(.put, "/api/v1/partner/llm", json: padded).problemFields == ["provider.base_url"])
                #expect(try await api.call(.post, "/api/v1/partner/llm/test", json: named).problemFields == ["provider.base_url"])
                let unknown = try await api.call(.put, "/api/v1/partner/llm", json: #"{"mode": "own", "provider": {"ca_bundle": "/x"}}"#)
                #expect(unknown.problemFields == ["mode", "provider.ca_bundle"])
                let folder = try await api.call(
                    .put, "/api/v1/partner/llm", json: #"{"provider": {"kind": "yandexgpt", "model": "yandexgpt/latest"}}"#)
                #expect(folder.problemFields == ["provider.folder_id"])
                let cleared = try await api.call(.put, "/api/v1/partner/llm", json: #"{"provider": null, "api_key": null}"#)
                #expect(cleared.status == .ok && cleared.object["provider"] is NSNull && cleared.object["key_set"] as? Bool == false)
            }
            let north = try await Self.row(env, "north")
            #expect(north.0 == nil && north.1 == nil)
            #expect(try await Self.row(env, "south") == southBefore)
            let audit = try await env.services.database.values(
                String.self,
                "SELECT target || ' ' || actor_email || ' ' || details::text FROM platform.audit_log WHERE action = 'partner.model_changed' ORDER BY id"
            )
            #expect(audit.count == 3 && audit.allSatisfy { $0.hasPrefix("north api key") && !$0.contains("sk-agency") })
            #expect(audit.first?.contains("replaced") == true && audit.last?.contains("removed") == true)
        }
    }

    @Test func aShopKeyAndAReadOnlyKeyAreRefused() async throws {
        try await TestEnvironment.with { env in
            try await Self.agencies(env)
            _ = try await makeBotShop(env, "tea")
            let shop = try await env.tenantKey("tea")
            let reader = try await env.partnerKey("north", scopes: [.tenantsRead])
            try await env.withApp { client throws in
                let api = APIClient(client, token: shop)
                #expect(try await api.get("/api/v1/partner/llm").isProblem("forbidden", .forbidden))
                #expect(try await api.call(.put, "/api/v1/partner/llm", json: Self.give).isProblem("forbidden", .forbidden))
                #expect(try await api.call(.post, "/api/v1/partner/llm/test").isProblem("forbidden", .forbidden))
                let read = APIClient(client, token: reader)
                #expect(try await read.get("/api/v1/partner/llm").status == .ok)
                #expect(try await read.call(.put, "/api/v1/partner/llm", json: Self.give).isProblem("forbidden", .forbidden))
            }
            #expect(try await Self.row(env, "north") == (nil, nil))
        }
    }

    @Test func theTestEndpointAsksTheModelAndStoresNothing() async throws {
        let fake = FakeOpenAIServer.make()
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                try await Self.agencies(env)
                let token = try await env.partnerKey("north")
                try await env.withApp(configure: { $0.allowPrivateModelHosts = true }) { client throws in
                    let api = APIClient(client, token: token)
                    #expect(try await api.call(.post, "/api/v1/partner/llm/test").isProblem("conflict", .conflict))
                    let body = #"{"provider": {"kind": "openai", "base_url": "\#(url)/v1", "model": "gpt-4o-mini"}, "api_key": "sk-t"}"#
                    let ok = try await api.call(.post, "/api/v1/partner/llm/test", json: body)
                    #expect(
                        ok.status == .ok && ok.object["ok"] as? Bool == true && ok.object["model"] as? String == "gpt-4o-mini-2024-07-18")
                    #expect((ok.object["tokens"] as? [String: Any])?["total"] as? Int == 29 && ok.object["milliseconds"] is Int)
                    #expect(fake.requests.last?.headers["authorization"] == "Bearer sk-t")
                    #expect(try await Self.row(env, "north") == (nil, nil))

                    // Saved, the stored key goes to the stored address; a refusal is an answer, not an error.
                    #expect(try await api.call(.put, "/api/v1/partner/llm", json: body).status == .ok)
                    fake.queue(.reply(401, FakeOpenAIServer.error("Incorrect API key provided.", code: "invalid_api_key")))
                    let refused = try await api.call(.post, "/api/v1/partner/llm/test")
                    #expect(refused.status == .ok && refused.object["ok"] as? Bool == false)
                    #expect((refused.object["error"] as? String)?.contains("refused the key") == true)
                    #expect(fake.requests.last?.headers["authorization"] == "Bearer sk-t")
                    let elsewhere = try await api.call(
                        .post, "/api/v1/partner/llm/test", json: #"{"provider": {"base_url": "https://llm.example.net/v1"}}"#)
                    #expect(elsewhere.problemFields == ["api_key"])

                    var last = try await api.call(.post, "/api/v1/partner/llm/test")
                    for _ in 0..<10 where last.status == .ok { last = try await api.call(.post, "/api/v1/partner/llm/test") }
                    #expect(last.isProblem("rate-limited", .tooManyRequests) && last.headers[.retryAfter] != nil)
                }
            }
        }
    }
}

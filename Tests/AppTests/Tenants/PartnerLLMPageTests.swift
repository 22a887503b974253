import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("The agency's language model page")
struct PartnerLLMPageTests {
    static let password = "correct-horse-battery"

    static func give(_ url: String, key: String = "", model: String = "gpt-4o-mini") -> [String: String] {
        [
            "llm_give": "give", "llm_kind": "openai", "llm_base_url": url, "llm_model": model, "llm_api_key": key, "llm_folder_id": "",
            "llm_temperature": "0.2", "llm_max_tokens": "500", "llm_timeout": "20",
        ]
    }

    static func row(_ env: TestEnvironment, _ slug: String) async throws -> (String?, String?) {
        try #require(
            try await env.services.database.value(
                (String?, String?).self, "SELECT llm::text, llm_key FROM platform.partners WHERE slug = \(slug)"))
    }

    @Test func anAgencyGivesItsShopsAModelWithASealedKeyOnItsOwnRowOnly() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.test"])
            try await env.makePartner("south", domains: ["panel.south.test"])
            _ = try await makeBotShop(env, "acme")
            try await env.services.database.execute(
                "UPDATE platform.tenants SET partner_id = (SELECT id FROM platform.partners WHERE slug = 'north') WHERE slug = 'acme'")
            try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
            try await env.makeUser("root@platform.test", role: .platformAdmin)
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.services.directory.reload()
            let key = "sk-agency-secret-4242"
            try await env.withApp { client throws in
                var agency = Browser(client, host: "panel.north.test")
                try await agency.signIn("olivia@north.test", Self.password)
                let home = try await agency.get("/admin")
                #expect(home.text.contains("href=\"/admin/model\""))
                let page = try await agency.get("/admin/model")
                #expect(page.status == .ok && page.text.contains("name=\"llm_api_key\" type=\"password\" value=\"\""))
                #expect(
                    try await agency.post("/admin/model", Self.give("https://api.openai.com/v1", key: key), csrf: "").status == .forbidden)
                let refused = try await agency.post("/admin/model", Self.give("http://192.168.1.10/v1", key: key))
                #expect(
                    refused.status == .unprocessableContent && refused.text.contains("во внутренней сети") && !refused.text.contains(key))
                let saved = try await agency.post("/admin/model", Self.give("https://api.openai.com/v1", key: key))
                #expect(saved.status == .seeOther && saved.location == "/admin/model")
                let shown = try await agency.get("/admin/model")
                #expect(shown.text.contains("••••••••4242") && !shown.text.contains(key))

                // The shop's bot page names the agency's model; the shop cannot open the agency's page.
                var shop = Browser(client, host: "acme.vitrina.test")
                try await shop.signIn("adam@acme.test", Self.password)
                #expect(try await shop.get("/admin/bot/model").text.contains("Ваше агентство даёт модель openai/gpt-4o-mini."))
                #expect(try await shop.get("/admin/model").status == .notFound)

                // The platform's operator acts on the agency's host as its pages allow.
                var root = Browser(client, host: "panel.north.test")
                try await root.signIn("root@platform.test", Self.password)
                #expect(try await root.get("/admin/model").status == .ok)
                #expect(try await root.post("/admin/model", Self.give("https://api.openai.com/v1", model: "gpt-4.1")).status == .seeOther)
                var platform = Browser(client, host: "vitrina.test")
                try await platform.signIn("root@platform.test", Self.password)
                #expect(try await platform.get("/admin/model").status == .notFound)
            }
            let (north, northKey) = try await Self.row(env, "north")
            let provider = try JSONDecoder().decode(LLMProvider.self, from: Data(try #require(north).utf8))
            #expect(provider.model == "gpt-4.1" && provider.baseURL == "https://api.openai.com/v1")
            let sealed = try #require(northKey)
            let opened = try env.services.secrets.open(sealed)
            #expect(!sealed.contains(key) && opened == key)
            let (south, southKey) = try await Self.row(env, "south")
            #expect(south == nil && southKey == nil)
            let audit = try await env.services.database.values(
                String.self, "SELECT details::text FROM platform.audit_log WHERE action = 'partner.model_changed' ORDER BY id")
            #expect(audit.count == 2 && audit.allSatisfy { !$0.contains(key) })
        }
    }

    /// The agency's provider may embed its shops' knowledge: saved from the form, and the switch queues the
    /// re-embedding of the shops that follow the agency; GigaChat's is refused with its sentence.
    @Test func theAgencyChoosesItsProvidersEmbeddingsAndItsShopsAreReembedded() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north", domains: ["panel.north.test"])
            let tenant = try await makeBotShop(env, "acme")
            try await env.services.database.execute(
                "UPDATE platform.tenants SET partner_id = (SELECT id FROM platform.partners WHERE slug = 'north') WHERE slug = 'acme'")
            try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
            try await env.services.directory.reload()
            let jobs: @Sendable () async throws -> Int = {
                try await env.services.database.value(
                    Int.self, "SELECT count(*)::int FROM platform.jobs WHERE kind = 'bot.embed-knowledge' AND tenant_id = \(tenant.id)")
                    ?? 0
            }
            try await env.withApp { client throws in
                var agency = Browser(client, host: "panel.north.test")
                try await agency.signIn("olivia@north.test", Self.password)
                #expect(try await agency.get("/admin/model").text.contains("Эмбеддинги базы знаний"))
                let before = try await jobs()
                var form = Self.give("https://api.openai.com/v1", key: "sk-agency")
                (form["llm_embeddings"], form["llm_embedding_model"]) = ("provider", "text-embedding-3-large")
                #expect(try await agency.post("/admin/model", form).status == .seeOther)
                #expect(try await jobs() == before + 1)
                let shown = try await agency.get("/admin/model")
                #expect(shown.text.contains("<option value=\"provider\" selected>Провайдера</option>"))
                #expect(shown.text.contains("value=\"text-embedding-3-large\""))

                var giga = form
                (giga["llm_kind"], giga["llm_base_url"], giga["llm_model"], giga["llm_embedding_model"]) = ("gigachat", "", "GigaChat", "")
                let refused = try await agency.post("/admin/model", giga)
                #expect(refused.status == .unprocessableContent && refused.text.contains("Эмбеддинги GigaChat не поддерживаются;"))
                #expect(try await jobs() == before + 1)
            }
            let provider = try JSONDecoder().decode(LLMProvider.self, from: Data(try #require(try await Self.row(env, "north").0).utf8))
            #expect(provider.embeddings == .provider && provider.embeddingModel == "text-embedding-3-large")
        }
    }

    @Test func theAgencysTestButtonAsksTheProviderWithTheStoredKey() async throws {
        let fake = FakeOpenAIServer.make()
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                try await env.makePartner("north", domains: ["panel.north.test"])
                try await env.makeUser("olivia@north.test", role: .partnerOwner, partner: "north")
                try await env.services.directory.reload()
                try await env.withApp(configure: { $0.allowPrivateModelHosts = true }) { client throws in
                    var agency = Browser(client, host: "panel.north.test")
                    try await agency.signIn("olivia@north.test", Self.password)
                    try await agency.get("/admin/model")
                    #expect(try await agency.post("/admin/model", Self.give(url + "/v1", key: "sk-agency")).status == .seeOther)
                    try await agency.get("/admin/model")
                    let tested = try await agency.post("/admin/model/test", Self.give(url + "/v1"))
                    #expect(tested.status == .ok && tested.text.contains("модель gpt-4o-mini-2024-07-18 ответила"))
                    #expect(fake.requests.last?.headers["authorization"] == "Bearer sk-agency")
                    var none = Self.give("")
                    none["llm_give"] = "none"
                    let nothing = try await agency.post("/admin/model/test", none)
                    #expect(nothing.status == .ok && nothing.text.contains("Проверять нечего"))
                    #expect(fake.requests.count == 1)
                }
            }
        }
    }
}

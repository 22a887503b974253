import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("The bot's language model page")
struct BotLLMPageTests {
    static let password = "correct-horse-battery"

    /// The form with the bot's own OpenAI-compatible model at `url`.
    static func own(_ url: String, key: String = "", model: String = "gpt-4o-mini") -> [String: String] {
        [
            "llm_mode": "own", "llm_kind": "openai", "llm_base_url": url, "llm_model": model, "llm_api_key": key, "llm_folder_id": "",
            "llm_temperature": "0,3", "llm_max_tokens": "400", "llm_timeout": "15", "llm_instructions": "Говори на «вы».",
            "llm_on_uncited": "handoff",
        ]
    }

    /// The bot's stored model settings and sealed key.
    static func stored(_ env: TestEnvironment, _ tenant: TenantRecord) async throws -> (LLMSettings, String?) {
        try await env.services.tenants.withTenant(tenant) { connection in
            let row = try #require(
                try await connection.value((String, String?).self, "SELECT llm::text, llm_key FROM bots ORDER BY id LIMIT 1"))
            return (LLMSettings(json: row.0), row.1)
        }
    }

    @Test func theOwnKeyIsSealedShownMaskedKeptWhenEmptyAndRemovedOnRequest() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            let key = "sk-live-secret-key-9876"
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", Self.password)
                let settings = try await browser.get("/admin/bot")
                #expect(settings.text.contains("href=\"/admin/bot/model?bot=assistant\"") && settings.text.contains("Модель агентства."))
                let form = try await browser.get("/admin/bot/model")
                #expect(form.status == .ok && form.text.contains("name=\"llm_api_key\" type=\"password\" value=\"\""))
                #expect(form.text.contains("Ваше агентство не даёт модели"))

                #expect(
                    try await browser.post("/admin/bot/model", Self.own("https://api.openai.com/v1", key: key), csrf: "").status
                        == .forbidden)
                let saved = try await browser.post("/admin/bot/model", Self.own("https://api.openai.com/v1", key: key))
                #expect(saved.status == .seeOther && saved.location == "/admin/bot/model?bot=assistant")
                let (settingsAfter, sealed) = try await Self.stored(env, tenant)
                #expect(settingsAfter.mode == .own && settingsAfter.provider?.model == "gpt-4o-mini" && settingsAfter.onUncited == .handoff)
                #expect(settingsAfter.provider?.temperature == 0.3 && settingsAfter.provider?.maxTokens == 400)
                #expect(settingsAfter.instructions == "Говори на «вы».")
                let stored = try #require(sealed)
                #expect(!stored.contains(key) && !stored.contains("9876"))
                #expect(try env.services.secrets.open(stored) == key)

                let page = try await browser.get("/admin/bot/model")
                #expect(page.text.contains("Настройки языковой модели сохранены."))
                #expect(page.text.contains("••••••••9876") && !page.text.contains(key))
                // An empty key field keeps the key; another model is saved beside it.
                #expect(
                    try await browser.post("/admin/bot/model", Self.own("https://api.openai.com/v1", model: "gpt-4.1-mini")).status
                        == .seeOther)
                let (changed, kept) = try await Self.stored(env, tenant)
                #expect(changed.provider?.model == "gpt-4.1-mini" && kept == stored)
                // The bot's settings page names it.
                #expect(try await browser.get("/admin/bot").text.contains("Своя модель: openai/gpt-4.1-mini."))

                var remove = Self.own("https://api.openai.com/v1")
                remove["llm_api_key_remove"] = "on"
                try await browser.get("/admin/bot/model")
                #expect(try await browser.post("/admin/bot/model", remove).status == .seeOther)
                #expect(try await Self.stored(env, tenant).1 == nil)
            }
            let details = try await env.services.database.values(
                String.self, "SELECT details::text FROM platform.audit_log WHERE action = 'bot.model_changed' ORDER BY id")
            #expect(details.count == 3)
            #expect(details.allSatisfy { !$0.contains(key) && !$0.contains("9876") })
            #expect(details.first?.contains("replaced") == true && details.last?.contains("removed") == true)
        }
    }

    /// The provider's embeddings: saved from the form, a switch queues the shop's re-embedding, GigaChat's refused with
    /// its sentence and shown disabled with a note.
    @Test func theProvidersEmbeddingsAreChosenOnThePageAndASwitchQueuesTheReembedding() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            let jobs: @Sendable () async throws -> Int = {
                try await env.services.database.value(
                    Int.self, "SELECT count(*)::int FROM platform.jobs WHERE kind = 'bot.embed-knowledge' AND tenant_id = \(tenant.id)")
                    ?? 0
            }
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", Self.password)
                let form = try await browser.get("/admin/bot/model")
                #expect(form.text.contains("Эмбеддинги базы знаний") && form.text.contains("в фоне"))
                #expect(form.text.contains("<option value=\"local\" selected>Модель установки</option>"))
                #expect(form.text.contains("placeholder=\"text-embedding-3-small\""))
                #expect(try await browser.post("/admin/bot/model", Self.own("https://api.openai.com/v1", key: "sk-1")).status == .seeOther)
                #expect(try await Self.stored(env, tenant).0.provider?.embeddings == .local)
                let before = try await jobs()

                var provider = Self.own("https://api.openai.com/v1")
                provider["llm_embeddings"] = "provider"
                provider["llm_embedding_model"] = "text-embedding-3-large"
                try await browser.get("/admin/bot/model")
                #expect(try await browser.post("/admin/bot/model", provider).status == .seeOther)
                let saved = try #require(try await Self.stored(env, tenant).0.provider)
                #expect(saved.embeddings == .provider && saved.embeddingModel == "text-embedding-3-large")
                #expect(try await jobs() == before + 1)
                let shown = try await browser.get("/admin/bot/model")
                #expect(shown.text.contains("<option value=\"provider\" selected>Провайдера</option>"))
                #expect(shown.text.contains("value=\"text-embedding-3-large\""))
                // The same settings again change nothing and queue nothing.
                #expect(try await browser.post("/admin/bot/model", provider).status == .seeOther)
                #expect(try await jobs() == before + 1)

                var giga = provider
                (giga["llm_kind"], giga["llm_base_url"], giga["llm_model"], giga["llm_embedding_model"]) = ("gigachat", "", "GigaChat", "")
                try await browser.get("/admin/bot/model")
                let refused = try await browser.post("/admin/bot/model", giga)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("Эмбеддинги GigaChat не поддерживаются; оставьте модель установки"))
                #expect(try await Self.stored(env, tenant).0.provider == saved)

                var yandex = provider
                (yandex["llm_kind"], yandex["llm_base_url"], yandex["llm_model"]) = ("yandexgpt", "", "yandexgpt/latest")
                (yandex["llm_folder_id"], yandex["llm_embedding_model"]) = ("b1g", "Text Search")
                let badName = try await browser.post("/admin/bot/model", yandex)
                #expect(badName.status == .unprocessableContent && badName.text.contains("название пары, например text-search"))
                #expect(badName.text.contains("placeholder=\"text-search\""))

                // Another provider needs its key again (or none).
                (giga["llm_embeddings"], giga["llm_api_key_remove"]) = (nil, "on")
                #expect(try await browser.post("/admin/bot/model", giga).status == .seeOther)
                #expect(try await Self.stored(env, tenant).0.provider?.embeddings == .local)
                #expect(try await jobs() == before + 2)
                let gigaPage = try await browser.get("/admin/bot/model")
                #expect(gigaPage.text.contains("aria-describedby=\"llm-embeddings-hint\" disabled"))
                #expect(gigaPage.text.contains("Эмбеддинги GigaChat не поддерживаются: используется модель установки."))
            }
        }
    }

    @Test func refusedValuesComeBackWithTheirSentenceAndWithoutTheKey() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", Self.password)
                try await browser.get("/admin/bot/model")
                let badURL = try await browser.post("/admin/bot/model", Self.own("ftp://models.example", key: "sk-typed-1111"))
                #expect(badURL.status == .unprocessableContent)
                #expect(badURL.text.contains("Укажите адрес API, например https://api.openai.com/v1."))
                #expect(badURL.text.contains("value=\"ftp://models.example\"") && badURL.text.contains("Говори на «вы»."))
                #expect(!badURL.text.contains("sk-typed-1111"))

                var yandex = Self.own("")
                yandex["llm_kind"] = "yandexgpt"
                yandex["llm_model"] = "yandexgpt/latest"
                let noFolder = try await browser.post("/admin/bot/model", yandex)
                #expect(noFolder.status == .unprocessableContent && noFolder.text.contains("YandexGPT нужен идентификатор каталога."))

                var numbers = Self.own("https://api.openai.com/v1")
                numbers["llm_temperature"] = "7"
                numbers["llm_instructions"] = String(repeating: "я", count: 4001)
                let refused = try await browser.post("/admin/bot/model", numbers)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains("Введите число от 0 до 2.") && refused.text.contains("Не больше 4000 знаков."))
            }
            let (settings, key) = try await Self.stored(env, tenant)
            #expect(settings.mode == .partner && settings.provider == nil && key == nil)
        }
    }

    @Test func addressesOnTheServersNetworkAreRefusedUnlessTheInstallationAllowsThem() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", Self.password)
                for url in [
                    "http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://169.254.169.254/latest", "http://[::1]/v1",
                    "http://10.1.2.3/v1",
                    // Names that lead there (TestHosts: one resolves to 10.20.30.40, one to the cloud's metadata address).
                    "https://llm.corp.example/v1", "http://metadata.cloud.example./latest",
                ] {
                    try await browser.get("/admin/bot/model")
                    let refused = try await browser.post("/admin/bot/model", Self.own(url))
                    #expect(refused.status == .unprocessableContent, "\(url)")
                    #expect(refused.text.contains("Этот адрес — во внутренней сети сервера"), "\(url)")
                    try await browser.get("/admin/bot/model")
                    let test = try await browser.post("/admin/bot/model/test", Self.own(url))
                    #expect(test.status == .unprocessableContent, "\(url)")
                }
            }
            #expect(try await Self.stored(env, tenant).0.provider == nil)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", Self.password)
                try await browser.get("/admin/bot/model")
                #expect(try await browser.post("/admin/bot/model", Self.own("https://llm.public.example/v1")).status == .seeOther)
            }
            #expect(try await Self.stored(env, tenant).0.provider?.baseURL == "https://llm.public.example/v1")
            try await env.withApp(configure: { $0.allowPrivateModelHosts = true }) { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", Self.password)
                try await browser.get("/admin/bot/model")
                #expect(try await browser.post("/admin/bot/model", Self.own("http://127.0.0.1:8080/v1")).status == .seeOther)
            }
            #expect(try await Self.stored(env, tenant).0.provider?.baseURL == "http://127.0.0.1:8080/v1")
        }
    }

    @Test func theTestButtonReportsTheAnswerOrTheRefusalAndStoresNothing() async throws {
        let fake = FakeOpenAIServer.make()
        let other = FakeOpenAIServer.make()
        try await withChatServer(other) { otherURL, _ in
            try await withChatServer(fake) { url, _ in
                try await TestEnvironment.with { env in
                    let tenant = try await makeBotShop(env, "acme")
                    try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
                    try await env.withApp(configure: { $0.allowPrivateModelHosts = true }) { client throws in
                        var browser = Browser(client, host: "acme.vitrina.test")
                        try await browser.signIn("adam@acme.test", Self.password)
                        try await browser.get("/admin/bot/model")
                        #expect(
                            try await browser.post("/admin/bot/model/test", Self.own(url + "/v1", key: "sk-typed"), csrf: "").status
                                == .forbidden)
                        let answered = try await browser.post("/admin/bot/model/test", Self.own(url + "/v1", key: "sk-typed"))
                        #expect(answered.status == .ok)
                        #expect(
                            answered.text.contains("модель gpt-4o-mini-2024-07-18 ответила за") && answered.text.contains("токенов: 29"))
                        #expect(answered.text.contains("flash-success") && !answered.text.contains("sk-typed"))
                        let request = try #require(fake.requests.last)
                        #expect(request.headers["authorization"] == "Bearer sk-typed" && request.json["max_tokens"] as? Int == 16)
                        #expect(try await Self.stored(env, tenant).0 == LLMSettings())

                        fake.queue(.reply(401, FakeOpenAIServer.error("Incorrect API key provided: sk-wrong.", code: "invalid_api_key")))
                        let refused = try await browser.post("/admin/bot/model/test", Self.own(url + "/v1", key: "sk-wrong"))
                        #expect(refused.status == .ok && refused.text.contains("провайдер не принял ключ"))
                        #expect(refused.text.contains("flash-error") && !refused.text.contains("sk-wrong"))

                        // With the key stored, an empty field tests with it; at another address it must be typed again.
                        #expect(try await browser.post("/admin/bot/model", Self.own(url + "/v1", key: "sk-stored")).status == .seeOther)
                        try await browser.get("/admin/bot/model")
                        #expect(try await browser.post("/admin/bot/model/test", Self.own(url + "/v1")).status == .ok)
                        #expect(fake.requests.last?.headers["authorization"] == "Bearer sk-stored")
                        let moved = try await browser.post("/admin/bot/model/test", Self.own(otherURL + "/v1"))
                        #expect(moved.status == .unprocessableContent && moved.text.contains("введите ключ заново"))
                        #expect(other.requests.isEmpty)
                        let movedSave = try await browser.post("/admin/bot/model", Self.own(otherURL + "/v1"))
                        #expect(movedSave.status == .unprocessableContent && movedSave.text.contains("введите ключ заново"))
                    }
                }
            }
        }
    }

    @Test func testsAreThrottledPerPerson() async throws {
        let fake = FakeOpenAIServer.make()
        try await withChatServer(fake) { url, _ in
            try await TestEnvironment.with { env in
                _ = try await makeBotShop(env, "acme")
                try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
                try await env.withApp(configure: { $0.allowPrivateModelHosts = true }) { client throws in
                    var browser = Browser(client, host: "acme.vitrina.test")
                    try await browser.signIn("adam@acme.test", Self.password)
                    try await browser.get("/admin/bot/model")
                    for _ in 0..<10 { #expect(try await browser.post("/admin/bot/model/test", Self.own(url + "/v1")).status == .ok) }
                    let throttled = try await browser.post("/admin/bot/model/test", Self.own(url + "/v1"))
                    #expect(throttled.status == .tooManyRequests && throttled.headers[.retryAfter] != nil)
                    #expect(throttled.text.contains("Слишком много проверок подряд"))
                    #expect(fake.requests.count == 10)
                }
            }
        }
    }

    @Test func onlyAdminsAndOwnersReachTheModel() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("oleg@acme.test", role: .operator, tenant: "acme")
            try await env.makeUser("vera@acme.test", role: .viewer, tenant: "acme")
            try await env.withApp { client throws in
                for email in ["oleg@acme.test", "vera@acme.test"] {
                    var browser = Browser(client, host: "acme.vitrina.test")
                    try await browser.signIn(email, Self.password)
                    try await browser.get("/admin")
                    #expect(try await browser.get("/admin/bot/model").status == .forbidden, "\(email)")
                    #expect(
                        try await browser.post("/admin/bot/model", Self.own("https://api.openai.com/v1", key: "sk-x")).status == .forbidden)
                    #expect(try await browser.post("/admin/bot/model/test", Self.own("https://api.openai.com/v1")).status == .forbidden)
                }
            }
            #expect(try await Self.stored(env, tenant).1 == nil)
        }
    }
}

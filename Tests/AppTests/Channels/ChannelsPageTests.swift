import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// The panel's Messengers page. Telegram and WhatsApp are connected here only through their input checks and stored
/// states: their clients are placeholders in the composition root until the real ones are wired.
@Suite("Channels: the panel's messengers page")
struct ChannelsPageTests {
    static let password = "correct-horse-battery"
    static let skill = "3b1c9a6e-2f4d-4e8a-9c61-7d5e0b2a4f13"

    /// Stores a connection as the connector would have left it.
    static func store(
        _ env: TestEnvironment, _ tenant: TenantRecord, _ kind: ChannelKind, status: ChannelConnection.Status, detail: String? = nil,
        settings: ChannelSettings = ChannelSettings(), secrets: ChannelSecrets = ChannelSecrets()
    ) async throws {
        let store = env.services.channelConnections
        try await env.services.tenants.withTenant(tenant) { connection in
            let bot = try #require(try await BotStore().find(id: nil, on: connection))
            try await store.save(
                botID: bot.id, kind: kind, settings: settings, secrets: secrets, status: status, detail: detail, on: connection)
        }
    }

    @Test func everyStateIsShownAndAliceConnectsAndDisconnectsWithTheAuditLog() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            try await env.makeUser("adam@acme.test", role: .admin, tenant: "acme")
            try await env.makeUser("olga@acme.test", role: .operator, tenant: "acme")
            try await env.withApp { client throws in
                var operatorBrowser = Browser(client, host: "acme.vitrina.test")
                try await operatorBrowser.signIn("olga@acme.test", Self.password)
                #expect(try await operatorBrowser.get("/admin/bot/channels").status == .forbidden)

                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("adam@acme.test", Self.password)
                let empty = try await browser.get("/admin/bot/channels")
                #expect(empty.status == .ok)
                #expect(empty.text.components(separatedBy: "Не подключён").count == 4)
                #expect(empty.text.contains("href=\"/admin/bot/channels\"") && empty.text.contains("Мессенджеры"))
                #expect(empty.text.contains("name=\"token\" type=\"password\" value=\"\""))
                #expect(empty.text.contains("action=\"/admin/bot/channels/alice?bot=assistant\""))
                #expect(!empty.text.lowercased().contains("vitrina") && !empty.text.contains("<script>"))

                // Alice: a bad skill id keeps the form with the sentence beside the field; CSRF is required.
                let alice = ["skill_id": Self.skill, "handoff_contact": "+7 800 555-35-35"]
                #expect(try await browser.post("/admin/bot/channels/alice", alice, csrf: "").status == .forbidden)
                let bad = try await browser.post(
                    "/admin/bot/channels/alice", ["skill_id": "not-a-skill", "handoff_contact": "+7 800 555-35-35"])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.text.contains("ID навыка — UUID") && bad.text.contains("value=\"not-a-skill\""))
                #expect(bad.text.contains("value=\"+7 800 555-35-35\""))
                let saved = try await browser.post("/admin/bot/channels/alice", alice)
                #expect(saved.status == .seeOther && saved.location == "/admin/bot/channels?bot=assistant")
                let connected = try await browser.get("/admin/bot/channels")
                #expect(connected.text.contains("Настройки Алисы сохранены"))
                #expect(connected.text.contains(">Подключён</span>") && connected.text.contains("value=\"\(Self.skill)\""))
                #expect(connected.text.contains("://acme.vitrina.test") && connected.text.contains("/hooks/alice/"))
                #expect(connected.text.contains("data-copy=\"alice_webhook\""))

                // Telegram: a token that is not one is refused and never shown back.
                let typed = "not a token 12345"
                let refused = try await browser.post("/admin/bot/channels/telegram", ["token": typed, "drop_pending_updates": "on"])
                #expect(refused.status == .unprocessableContent && refused.text.contains("Токен бота Telegram выглядит как"))
                #expect(!refused.text.contains(typed) && refused.text.contains("name=\"drop_pending_updates\" checked"))
                // WhatsApp: the sentence beside its field, what was typed kept (never the secrets).
                let whatsapp = [
                    "phone_number_id": "12", "token": "EAAG-secret-token-0123456789", "app_secret": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                    "template_name_0": "order_update", "template_language_0": "ru", "template_text_0": "Ваш заказ готов.",
                ]
                let phone = try await browser.post("/admin/bot/channels/whatsapp", whatsapp)
                #expect(phone.status == .unprocessableContent && phone.text.contains("ID номера телефона — число"))
                #expect(phone.text.contains("value=\"order_update\"") && phone.text.contains("Ваш заказ готов."))
                #expect(!phone.text.contains("EAAG-secret") && !phone.text.contains("0f1e2d3c"))
                var template = whatsapp
                template["phone_number_id"] = "106540352242922"
                template["template_name_0"] = "Order Update"
                let named = try await browser.post("/admin/bot/channels/whatsapp", template)
                #expect(named.status == .unprocessableContent && named.text.contains("Имя шаблона — как в настройках Meta"))

                // The states a connection can be in, as the connector leaves them.
                try await Self.store(
                    env, tenant, .telegram, status: .active, settings: ChannelSettings(username: "acme_tea_bot"),
                    secrets: ChannelSecrets(token: "123456789:AAEabcdefghijklmnopqrstuvwxyz9876"))
                try await Self.store(
                    env, tenant, .whatsapp, status: .failed, detail: "The access token has expired.",
                    settings: ChannelSettings(
                        phoneNumberID: "106540352242922", templates: [.init(name: "hello", language: "ru", text: "Привет")]),
                    secrets: ChannelSecrets(
                        token: "EAAG-secret-token-0123456789", appSecret: "0f1e2d3c4b5a6978", webhookSecret: "verify-me-123"))
                let states = try await browser.get("/admin/bot/channels")
                #expect(states.text.contains("Подключён как @acme_tea_bot") && states.text.contains("href=\"https://t.me/acme_tea_bot\""))
                #expect(states.text.contains("••••9876") && !states.text.contains("AAEabcdefghij"))
                #expect(states.text.contains("Ошибка: The access token has expired."))
                #expect(states.text.contains("value=\"verify-me-123\"") && states.text.contains("/hooks/whatsapp/"))
                #expect(states.text.contains("data-copy=\"whatsapp_verify\"") && states.text.contains("value=\"hello\""))
                #expect(!states.text.contains("EAAG-secret") && !states.text.contains("0f1e2d3c4b5a6978"))
                try await Self.store(
                    env, tenant, .telegram, status: .pending, secrets: ChannelSecrets(token: "123456789:AAEabcdefghijklmnopqrstuvwxyz9876"))
                #expect(try await browser.get("/admin/bot/channels").text.contains("Подключается…"))

                #expect(try await browser.post("/admin/bot/channels/alice/disconnect", csrf: "").status == .forbidden)
                let gone = try await browser.post("/admin/bot/channels/alice/disconnect")
                #expect(gone.status == .seeOther)
                let after = try await browser.get("/admin/bot/channels")
                #expect(after.text.contains("Бот отключён.") && !after.text.contains("/hooks/alice/"))
                #expect(try await browser.post("/admin/bot/channels/viber", alice).status == .notFound)
                #expect(try await browser.get("/admin/bot/channels?bot=nobody").status == .notFound)
            }
            let audit = try await env.services.database.values(
                (String, String, String).self,
                "SELECT action, target, details::text FROM platform.audit_log WHERE action LIKE 'channel.%' ORDER BY id")
            #expect(audit.map(\.0) == ["channel.connected", "channel.disconnected"])
            #expect(audit.allSatisfy { $0.1 == "assistant" && $0.2.contains("alice") && $0.2.contains(Self.skill) })
            #expect(try await env.services.channelConnections.list(in: tenant).map(\.kind) == [.telegram, .whatsapp])
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// The bot's messengers in the API. Telegram and WhatsApp are exercised through their input checks and stored states:
/// their clients are placeholders in the composition root until the real ones are wired.
@Suite("Channels: the API")
struct ChannelsAPITests {
    static let skill = "3b1c9a6e-2f4d-4e8a-9c61-7d5e0b2a4f13"

    @Test func aliceRoundTripsSecretsStayMaskedAndAnotherShopsBotIsNotFound() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let other = try await makeBotShop(env, "other")
            let plans = env.services.plans
            try await env.services.tenants.withTenant(other) { connection in
                _ = try await BotStore().create(Bot(slug: "sales", name: "Sales"), tenantID: other.id, plans: plans, on: connection)
            }
            try await ChannelsPageTests.store(
                env, tenant, .whatsapp, status: .active,
                settings: ChannelSettings(phoneNumberID: "106540352242922", displayPhoneNumber: "+7 900 000-00-00"),
                secrets: ChannelSecrets(
                    token: "EAAG-secret-token-0123456789", appSecret: "0f1e2d3c4b5a6978", webhookSecret: "verify-me-123"))
            let token = try await env.tenantKey("tea")
            let reader = try await env.tenantKey("tea", scopes: [.botRead])
            try await env.withApp { client throws in
                let api = APIClient(client, token: token)
                let path = "/api/v1/bots/assistant/channels"
                let body = #"{"skill_id": "\#(Self.skill.uppercased())", "handoff_contact": "+7 800 555-35-35"}"#
                #expect(
                    try await APIClient(client, token: reader).call(.put, path + "/alice", json: body).isProblem("forbidden", .forbidden))
                let saved = try await api.call(.put, path + "/alice", json: body)
                #expect(saved.status == .ok, "\(saved.text)")
                #expect(saved.object["kind"] as? String == "alice" && saved.object["status"] as? String == "active")
                #expect(
                    saved.object["skill_id"] as? String == Self.skill && saved.object["handoff_contact"] as? String == "+7 800 555-35-35")
                let url = try #require(saved.object["webhook_url"] as? String)
                #expect(url.contains("tea.vitrina.test") && url.contains("/hooks/alice/"))

                let bad = try await api.call(.put, path + "/alice", json: #"{"skill_id": "skill-42"}"#)
                #expect(bad.isProblem("validation", .unprocessableContent) && bad.problemFields == ["skill_id"])
                #expect(bad.text.contains("Yandex Dialogs") && !bad.text.lowercased().contains("vitrina"))
                let foreign = try await api.call(.put, path + "/alice", json: #"{"token": "123:abc"}"#)
                #expect(foreign.isProblem("validation", .unprocessableContent) && foreign.problemFields == ["token"])
                let unknown = try await api.call(.put, path + "/alice", json: #"{"skill": "x"}"#)
                #expect(unknown.isProblem("validation", .unprocessableContent) && unknown.problemFields == ["skill"])
                let telegram = try await api.call(.put, path + "/telegram", json: #"{"token": "not-a-token"}"#)
                #expect(telegram.isProblem("validation", .unprocessableContent) && telegram.problemFields == ["token"])
                let templates = try await api.call(
                    .put, path + "/whatsapp", json: #"{"templates": [{"name": "Bad Name", "language": "ru", "text": "Привет"}]}"#)
                #expect(templates.isProblem("validation", .unprocessableContent) && templates.problemFields == ["templates"])
                #expect(try await api.call(.put, path + "/viber", json: body).isProblem("not-found", .notFound))
                #expect(try await api.call(.put, "/api/v1/bots/sales/channels/alice", json: body).isProblem("not-found", .notFound))
                #expect(try await api.get("/api/v1/bots/sales/channels").isProblem("not-found", .notFound))

                let list = try await APIClient(client, token: reader).get(path)
                #expect(list.status == .ok)
                let items = try #require(list.object["items"] as? [[String: Any]])
                #expect(items.compactMap { $0["kind"] as? String } == ["whatsapp", "alice"])
                let whatsapp = try #require(items.first)
                #expect(whatsapp["token_masked"] as? String == "••••6789" && whatsapp["app_secret_masked"] as? String == "••••6978")
                #expect(
                    whatsapp["verify_token"] as? String == "verify-me-123" && whatsapp["phone_number_id"] as? String == "106540352242922")
                #expect(!list.text.contains("EAAG-secret") && !list.text.contains("0f1e2d3c4b5a6978"))

                let removed = try await api.call(.delete, path + "/alice")
                #expect(removed.status == .noContent)
                // Disconnecting again changes nothing: the same 204 (DELETE is idempotent); an unknown bot is still a 404.
                #expect(try await api.call(.delete, path + "/alice").status == .noContent)
                #expect(try await api.call(.delete, "/api/v1/bots/no-such-bot/channels/alice").isProblem("not-found", .notFound))
                let left = try #require(try await api.get(path).object["items"] as? [[String: Any]])
                #expect(left.compactMap { $0["kind"] as? String } == ["whatsapp"])
                // The other shop's key sees none of this bot's connections.
                let otherKey = try await env.tenantKey("other")
                let theirs = try await APIClient(client, token: otherKey).get(path)
                #expect(theirs.status == .ok && (theirs.object["items"] as? [Any])?.isEmpty == true)
            }
            let audit = try await env.services.database.values(
                (String, String).self, "SELECT action, details::text FROM platform.audit_log WHERE action LIKE 'channel.%' ORDER BY id")
            #expect(audit.map(\.0) == ["channel.connected", "channel.disconnected"])
            #expect(audit.allSatisfy { $0.1.contains(Self.skill) })
        }
    }
}

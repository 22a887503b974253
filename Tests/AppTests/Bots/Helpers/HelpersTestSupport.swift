import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// The helpers' suites, under one name that `swift test --filter Helpers` finds.
@Suite("Helpers for people") enum HelpersTests {}

extension TestEnvironment {
    /// Gives the shop's first bot its own OpenAI-compatible model at `url` (a fake server), with a sealed key.
    func giveModel(_ tenant: TenantRecord, url: String) async throws {
        try await services.tenants.withTenant(tenant) { connection in
            var bot = try #require(try await BotStore().find(id: nil, on: connection))
            bot.llm = LLMSettings(mode: .own, provider: LLMProvider(kind: .openai, baseURL: url + "/v1", model: "gpt-4o-mini"))
            try await BotStore().update(bot, on: connection)
            try await connection.execute("UPDATE bots SET llm_key = \(try services.secrets.seal("sk-shop")) WHERE id = \(bot.id)")
        }
    }

    /// Sets the shop's own monthly token cap and how many it has used this month.
    func tokens(_ tenant: TenantRecord, cap: Int64?, used: Int64) async throws {
        try await services.database.execute("UPDATE platform.tenants SET llm_token_cap = \(cap) WHERE id = \(tenant.id)")
        try await services.database.execute(
            """
            INSERT INTO platform.message_usage AS u (tenant_id, month, messages, llm_prompt_tokens, llm_completion_tokens, llm_calls)
            VALUES (\(tenant.id), date_trunc('month', now() AT TIME ZONE 'UTC')::date, 0, \(used), 0, 0)
            ON CONFLICT (tenant_id, month) DO UPDATE SET llm_prompt_tokens = \(used), llm_completion_tokens = 0
            """)
    }

    /// This month's counted model tokens and calls.
    func tokenUsage(_ tenant: TenantRecord) async throws -> (tokens: Int, calls: Int) {
        try await services.database.value(
            (Int, Int).self,
            """
            SELECT (llm_prompt_tokens + llm_completion_tokens)::int, llm_calls::int FROM platform.message_usage
            WHERE tenant_id = \(tenant.id) AND month = date_trunc('month', now() AT TIME ZONE 'UTC')::date
            """
        ).map { (tokens: $0.0, calls: $0.1) } ?? (0, 0)
    }
}

/// A chat completion whose message is `object` as JSON (what the helpers ask the model for).
func modelReply(_ object: Any, usage: (Int, Int) = (19, 10)) -> FakeChatServer.Answer {
    .reply(200, FakeOpenAIServer.completion(chatJSON(object), usage: usage))
}

extension FakeChatServer.Received {
    /// The chat's messages as (role, content).
    var chat: [(role: String, content: String)] {
        (json["messages"] as? [[String: Any]] ?? []).map { ($0["role"] as? String ?? "", $0["content"] as? String ?? "") }
    }
}

extension Browser {
    /// POSTs the page's CSRF token as inbox.js does, asking for JSON.
    mutating func postForJSON(_ path: String) async throws -> TestResponse {
        var headers = self.headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.accept] = "application/json"
        let body = "_csrf=" + Self.encode(csrf ?? "")
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// The skill id of the test connections (Alice's are UUIDs).
let testSkillID = "3ad36498-f5rd-4079-a14b-788652932056"

/// A request as Alice sends it (the shape of Yandex's documentation: meta, request with NLU tokens, session with the
/// user and the application, state, version).
func aliceJSON(
    command: String, utterance: String?, type: String = "SimpleUtterance", payload: String? = nil, messageID: Int = 3, new: Bool = false,
    session: String = "2eac4854-fce721f3-b845abba-20d60", skill: String = testSkillID,
    user: String = "AC9WC3DF6FCE052E45A4566A48E6B7193774B84814CE49A922E163B8B29881DC"
) -> String {
    func quoted(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
    let tokens = command.split(separator: " ").map { quoted(String($0)) }.joined(separator: ", ")
    let said = utterance.map { #""original_utterance": \#(quoted($0)),"# } ?? ""
    return """
        {
          "meta": {"locale": "ru-RU", "timezone": "Europe/Moscow", "client_id": "ru.yandex.searchplugin/7.16 (none none; android 4.4.2)",
            "interfaces": {"screen": {}, "payments": {}, "account_linking": {}}},
          "request": {"command": \(quoted(command)), \(said) "type": "\(type)", "markup": {"dangerous_context": false},
            "payload": \(payload ?? "{}"), "nlu": {"tokens": [\(tokens)], "entities": [], "intents": {}}},
          "session": {"message_id": \(messageID), "session_id": "\(session)", "skill_id": "\(skill)",
            "user_id": "47C73714B580ED2469056E71081159529FFC676A4E5B059D629A819E857DC2F8",
            "user": {"user_id": "\(user)"},
            "application": {"application_id": "47C73714B580ED2469056E71081159529FFC676A4E5B059D629A819E857DC2F8"},
            "new": \(new)},
          "state": {"session": {}, "user": {}, "application": {}},
          "version": "1.0"
        }
        """
}

/// Connects the shop's first bot to an Alice skill, as the panel will.
@discardableResult
func connectAlice(
    _ env: TestEnvironment, _ tenant: TenantRecord, skill: String = testSkillID, contact: String? = nil
) async throws
    -> ChannelConnection
{
    try await env.services.tenants.withTenant(tenant) { connection in
        let bot = try #require(try await BotStore().find(id: nil, on: connection))
        return try await env.services.channelConnections.save(
            botID: bot.id, kind: .alice, settings: ChannelSettings(skillID: skill, handoffContact: contact), secrets: ChannelSecrets(),
            status: .active, on: connection)
    }
}

/// Alice's side of the conversation: posts to a skill's webhook on a shop's host.
struct AliceClient {
    let client: any TestClientProtocol
    var host: String
    var path: String

    func post(_ json: String) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Forwarded-Host")!] = host
        headers[.contentType] = "application/json"
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    /// Says `utterance` (Alice's `command` is its lower-case, punctuation-free form) and returns the `response` object.
    func say(_ utterance: String, messageID: Int, new: Bool = false) async throws -> [String: Any] {
        let command = AliceIntent.normalized(utterance)
        let answer = try await post(aliceJSON(command: command, utterance: utterance, messageID: messageID, new: new))
        #expect(answer.status == .ok)
        return try #require(answer.object["response"] as? [String: Any])
    }
}

/// The shop's messages: (author, text, delivery), oldest first.
func aliceMessages(_ env: TestEnvironment, _ tenant: TenantRecord) async throws -> [(String, String, String?)] {
    try await env.services.tenants.withTenant(tenant) { connection in
        try await connection.values((String, String, String?).self, "SELECT author, text, delivery FROM messages ORDER BY id")
    }
}

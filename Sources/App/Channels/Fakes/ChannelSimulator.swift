import AsyncHTTPClient
import Foundation
import NIOCore

/// Plays a messenger against a running server (`vitrina channels simulate`, docs/CHANNELS.md): builds the request the
/// provider would send to a connection's webhook, signed as the provider signs it, posts it with the shop's host, and
/// reads what became of it (Alice's response, or the bot's answer and its delivery state).
public struct ChannelSimulator: Sendable {
    let client: HTTPClient
    let tenants: TenantDatabase

    public init(client: HTTPClient, tenants: TenantDatabase) {
        self.client = client
        self.tenants = tenants
    }

    /// A provider's request: its body, headers, the shopper's id and the message's dedupe key.
    public struct Call: Sendable {
        public var body: String
        public var headers: [(String, String)]
        public var shopper: String
        public var dedupeKey: String
    }

    /// What the webhook answered and, on Telegram and WhatsApp, the bot's answer once it left (or gave up).
    public struct Outcome: Sendable {
        public var status: Int
        public var body: String
        public var answer: (text: String, delivery: String?, error: String?)?
    }

    public static func call(_ connection: ChannelConnection, text: String, shopper: String?, name: String) throws -> Call {
        let parts = name.split(separator: " ", maxSplits: 1).map(String.init)
        switch connection.kind {
        case .telegram:
            let id = Int64(shopper ?? "") ?? 100_000_001
            let update = Int64(Date().timeIntervalSince1970 * 1000) % 1_000_000_000_000
            let body = FakeTelegramUpdates.text(
                text, updateID: update, from: .init(id: id, firstName: parts.first ?? name, lastName: parts.count > 1 ? parts[1] : nil),
                messageID: update % 1_000_000)
            return Call(
                body: body, headers: [("X-Telegram-Bot-Api-Secret-Token", connection.secrets.webhookSecret ?? "")], shopper: String(id),
                dedupeKey: "\(connection.id):\(update)")
        case .whatsapp:
            let from = shopper ?? "79990000001"
            let id = FakeWhatsAppAPI.Webhooks.newMessageID()
            let body = FakeWhatsAppAPI.Webhooks(phoneNumberID: connection.settings.phoneNumberID ?? "").text(
                text, from: from, name: name, id: id)
            let signature = WhatsAppSignature.sign(Array(body.utf8), appSecret: connection.secrets.appSecret ?? "")
            return Call(body: body, headers: [(WhatsAppSignature.header, signature)], shopper: from, dedupeKey: id)
        case .alice:
            let user = shopper ?? "demo-alice-user"
            let object: [String: Any] = [
                "meta": [
                    "locale": "ru-RU", "timezone": "Europe/Moscow", "client_id": "ru.yandex.searchplugin/7.16",
                    "interfaces": ["screen": [:]],
                ],
                "request": [
                    "command": text.lowercased(), "original_utterance": text, "type": "SimpleUtterance",
                    "nlu": ["tokens": text.lowercased().split(separator: " ").map(String.init), "entities": [Any]()],
                ] as [String: Any],
                "session": [
                    "message_id": Int(Date().timeIntervalSince1970) % 100_000, "session_id": UUID().uuidString.lowercased(),
                    "skill_id": connection.settings.skillID ?? "", "user": ["user_id": user], "application": ["application_id": user],
                    "new": false,
                ] as [String: Any],
                "version": "1.0",
            ]
            let body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            return Call(body: body, headers: [], shopper: user, dedupeKey: "")
        }
    }

    /// Posts `call` to the connection's webhook at `server` (as `host`), then waits up to `wait` for the bot's answer to
    /// leave (Telegram and WhatsApp).
    public func run(
        _ call: Call, connection: ChannelConnection, server: String, host: String, tenant: TenantRecord, wait: Duration = .seconds(30)
    ) async throws -> Outcome {
        var request = HTTPClientRequest(url: server.trimmingCharacters(in: ["/"]) + connection.webhookPath)
        request.method = .POST
        request.headers.add(name: "Host", value: host)
        request.headers.add(name: "Content-Type", value: "application/json")
        for (field, value) in call.headers { request.headers.add(name: field, value: value) }
        request.body = .bytes(ByteBuffer(string: call.body))
        let response = try await client.execute(request, timeout: .seconds(15))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        var outcome = Outcome(status: Int(response.status.code), body: body)
        guard outcome.status == 200, connection.kind != .alice else { return outcome }
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            let found = try await tenants.withTenant(tenant, readOnly: true) { door in
                try await door.value(
                    (String, String?, String?).self,
                    """
                    SELECT a.text, a.delivery, a.delivery_error FROM messages s
                    JOIN messages a ON a.conversation_id = s.conversation_id AND a.id > s.id AND a.author <> 'shopper' AND NOT a.internal
                    WHERE s.channel = \(connection.kind.rawValue) AND s.channel_message_id = \(call.dedupeKey) ORDER BY a.id LIMIT 1
                    """)
            }
            if let found {
                outcome.answer = (found.0, found.1, found.2)
                if found.1 != "queued" { break }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return outcome
    }

    /// Alice's response as lines for people: the text, the speech, the buttons, whether the session ends.
    public static func aliceLines(_ body: String) -> [String] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any],
            let response = object["response"] as? [String: Any]
        else { return ["← " + body] }
        var lines = ["← " + (response["text"] as? String ?? "")]
        if let tts = response["tts"] as? String { lines.append("  tts: " + tts) }
        let buttons = (response["buttons"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
        if !buttons.isEmpty { lines.append("  buttons: " + buttons.joined(separator: " | ")) }
        if response["end_session"] as? Bool == true { lines.append("  (the session ends)") }
        return lines
    }
}

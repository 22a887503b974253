import AsyncHTTPClient
import Foundation
import NIOCore

/// A delivery the fake could not make.
public struct FakeTelegramDeliveryError: Error, CustomStringConvertible {
    public var description: String
}

extension FakeTelegramAPI {
    /// POSTs `update` to the webhook `token`'s bot set, with `X-Telegram-Bot-Api-Secret-Token` as Telegram sends it, and
    /// returns the HTTP status. A method in a 200 answer's body (`{"method":"answerCallbackQuery",…}`) is run, as
    /// Telegram runs it. The update's chat becomes known to `requireKnownChats`.
    public func deliver(update: [String: Any], token: String) async throws -> Int {
        let data = try JSONSerialization.data(withJSONObject: update)
        return try await deliver(update: String(decoding: data, as: UTF8.self), token: token)
    }

    public func deliver(update json: String, token: String) async throws -> Int {
        let (hook, client, route) = state.withLock { ($0.bots[token]?.webhook, $0.client, $0.webhookRoute) }
        guard let hook else { throw FakeTelegramDeliveryError(description: "the bot has no webhook set") }
        guard let client else { throw FakeTelegramDeliveryError(description: "the fake is not started") }
        if let chat = Self.chat(in: json) { addChat(chat) }
        var request = HTTPClientRequest(url: hook.url)
        if let route, let url = URL(string: hook.url), let host = url.host {
            let query = url.query.map { "?" + $0 } ?? ""
            request = HTTPClientRequest(url: (route.hasSuffix("/") ? String(route.dropLast()) : route) + url.path + query)
            request.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        }
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let secret = hook.secretToken { request.headers.add(name: "X-Telegram-Bot-Api-Secret-Token", value: secret) }
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let status = Int(response.status.code)
        if status == 200, let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let method = object["method"] as? String
        {
            _ = call(method, token: token, object)
        }
        return status
    }

    /// The chat an update comes from: the message's chat, else the user who pressed a button.
    static func chat(in json: String) -> String? {
        guard let update = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        for kind in ["message", "edited_message"] {
            if let message = update[kind] as? [String: Any], let chat = message["chat"] as? [String: Any] { return string(chat["id"]) }
        }
        if let query = update["callback_query"] as? [String: Any] {
            if let message = query["message"] as? [String: Any], let chat = message["chat"] as? [String: Any] { return string(chat["id"]) }
            if let from = query["from"] as? [String: Any] { return string(from["id"]) }
        }
        return nil
    }
}

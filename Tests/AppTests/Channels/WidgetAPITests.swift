import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// The widget's API as a storefront's chat frame calls it: on the shop's host, the visitor's token in a header.
struct WidgetClient {
    let client: any TestClientProtocol
    var host: String
    var token: String?
    var origin: String?

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, headers extra: HTTPFields = [:]
    ) async throws
        -> TestResponse
    {
        var headers = extra
        headers[HTTPField.Name("X-Forwarded-Host")!] = host
        if let token { headers[.authorization] = "Bearer " + token }
        if let origin { headers[.origin] = origin }
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// A new anonymous visitor: this client with its token.
    func visitor() async throws -> WidgetClient {
        let created = try await call(.post, "/widget/api/visitors", json: "{}")
        #expect(created.status == .created)
        var copy = self
        copy.token = try #require(created.object["token"] as? String)
        return copy
    }

    /// The visitor's conversation's messages, after waiting (up to 10 s) until there are at least `count`.
    func messages(atLeast count: Int) async throws -> [[String: Any]] {
        for _ in 0..<200 {
            let messages = try await call(.get, "/widget/api/conversation").object["messages"] as? [[String: Any]] ?? []
            if messages.count >= count { return messages }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await call(.get, "/widget/api/conversation").object["messages"] as? [[String: Any]] ?? []
    }
}

@Suite("Widget API: visitors, messages through the queue, origins, limits")
struct WidgetAPITests {
    @Test func aMessageIsAcknowledgedDurableAndAnsweredThroughTheQueue() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            try await env.withApp { client in
                let shopper = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let sent = try await shopper.call(
                    .post, "/widget/api/messages", json: #"{"text": "Сколько идёт доставка?", "client_id": "c-1"}"#)
                #expect(sent.status == .accepted)
                let message = try #require(sent.object["message"] as? [String: Any])
                #expect(message["author"] as? String == "shopper" && message["client_id"] as? String == "c-1")
                #expect((sent.object["conversation"] as? [String: Any])?["state"] as? String == "bot")
                let messages = try await shopper.messages(atLeast: 2)
                #expect(messages.count == 2)
                #expect(messages.last?["author"] as? String == "bot")
                #expect((messages.last?["text"] as? String)?.contains("от 2 до 6 дней") == true)
                // A retry with the same client id is the same message, answered once.
                let again = try await shopper.call(
                    .post, "/widget/api/messages", json: #"{"text": "Сколько идёт доставка?", "client_id": "c-1"}"#)
                #expect(again.status == .accepted && (again.object["message"] as? [String: Any])?["id"] as? Int == message["id"] as? Int)
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await shopper.messages(atLeast: 2).count == 2)
                // Another visitor sees none of it; no token is a 401 problem.
                let stranger = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                #expect(try await stranger.call(.get, "/widget/api/conversation").object["conversation"] is NSNull)
                let anonymous = try await WidgetClient(client: client, host: "tea.vitrina.test").call(.get, "/widget/api/conversation")
                #expect(anonymous.isProblem("unauthorized", .unauthorized))
            }
        }
    }
}

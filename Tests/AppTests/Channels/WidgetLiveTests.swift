import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import App

/// A server-sent event as the widget reads it.
struct StreamEvent: Sendable {
    var name: String
    var id: Int?
    var data: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:] }
    var json: String
}

/// Reads a widget event stream on a live server until `enough` says so (or `timeout`), then drops the connection.
func readStream(
    _ http: HTTPClient, port: Int, host: String, token: String, conversation: Int, lastEventID: Int? = nil,
    timeout: Duration = .seconds(10),
    until enough: @escaping @Sendable ([StreamEvent]) -> Bool
) async throws -> [StreamEvent] {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/widget/api/events?conversation=\(conversation)")
    request.headers.add(name: "X-Forwarded-Host", value: host)
    request.headers.add(name: "Authorization", value: "Bearer " + token)
    if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
    let task = Task { () -> [StreamEvent] in
        let response = try await http.execute(request, timeout: .seconds(30))
        var events: [StreamEvent] = []
        var pending = ""
        var current = StreamEvent(name: "message", id: nil, json: "")
        for try await buffer in response.body {
            pending += String(buffer: buffer)
            while let newline = pending.firstIndex(of: "\n") {
                let line = String(pending[..<newline])
                pending = String(pending[pending.index(after: newline)...])
                if line.isEmpty {
                    if !current.json.isEmpty { events.append(current) }
                    current = StreamEvent(name: "message", id: nil, json: "")
                    if enough(events) { return events }
                } else if line.hasPrefix("event: ") {
                    current.name = String(line.dropFirst(7))
                } else if line.hasPrefix("id: ") {
                    current.id = Int(line.dropFirst(4))
                } else if line.hasPrefix("data: ") {
                    current.json += String(line.dropFirst(6))
                }
            }
        }
        return events
    }
    let timer = Task {
        try await Task.sleep(for: timeout)
        task.cancel()
    }
    defer { timer.cancel() }
    return try await task.value
}

@Suite("Widget live: resume after a disconnect, two processes")
struct WidgetLiveTests {
    @Test func aShopperOfflineForAWhileMissesNothing() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let anna = try await env.makeUser("anna@tea.example", role: .operator, tenant: "tea")
            let key = try await env.tenantKey("tea", createdBy: anna.id)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = http.shutdown() }
            try await env.withLiveApp { client, port in
                let shopper = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let token = try #require(shopper.token)
                let sent = try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "позовите оператора"}"#)
                let id = try #require((sent.object["conversation"] as? [String: Any])?["id"] as? Int)
                _ = try await shopper.messages(atLeast: 2)
                let first = try await readStream(http, port: port, host: "tea.vitrina.test", token: token, conversation: id) { events in
                    events.filter { $0.name == "message" }.count >= 2
                }
                #expect(first.first?.name == "state" && first.first?.data["state"] as? String == "waiting")
                let last = try #require(first.compactMap(\.id).max())
                // While the shopper is away, the operator writes twice.
                let api = APIClient(client, token: key)
                for text in ["Добрый день!", "Посылка уже в пути."] {
                    #expect(
                        try await api.call(.post, "/api/v1/conversations/\(id)/messages", json: #"{"text": "\#(text)"}"#).status == .created
                    )
                }
                let resumed = try await readStream(
                    http, port: port, host: "tea.vitrina.test", token: token, conversation: id, lastEventID: last
                ) { events in events.filter { $0.name == "message" }.count >= 2 }
                let texts = resumed.filter { $0.name == "message" }.map { $0.data["text"] as? String ?? "" }
                #expect(texts == ["Добрый день!", "Посылка уже в пути."])
                #expect(resumed.first?.data["state"] as? String == "assigned")
                // Another visitor cannot open this conversation's stream.
                let stranger = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let refused = try await stranger.call(.get, "/widget/api/events?conversation=\(id)")
                #expect(refused.isProblem("not-found", .notFound))
            }
        }
    }

    @Test func anOperatorReplyThroughAnotherProcessArrivesWithinASecond() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let anna = try await env.makeUser("anna@tea.example", role: .operator, tenant: "tea")
            let key = try await env.tenantKey("tea", createdBy: anna.id)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = http.shutdown() }
            try await env.withLiveApp { first, firstPort in
                try await env.withLiveApp { second, _ in
                    let shopper = try await WidgetClient(client: first, host: "tea.vitrina.test").visitor()
                    let token = try #require(shopper.token)
                    let sent = try await shopper.call(.post, "/widget/api/messages", json: #"{"text": "позовите оператора"}"#)
                    let id = try #require((sent.object["conversation"] as? [String: Any])?["id"] as? Int)
                    _ = try await shopper.messages(atLeast: 2)
                    let watching = Task {
                        try await readStream(http, port: firstPort, host: "tea.vitrina.test", token: token, conversation: id) { events in
                            events.contains { $0.name == "message" && $0.data["author"] as? String == "operator" }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    let replied = try await APIClient(second, token: key).call(
                        .post, "/api/v1/conversations/\(id)/messages", json: #"{"text": "Я из другого процесса"}"#)
                    #expect(replied.status == .created)
                    // The reply is committed when the other process answers; from then on the clock runs.
                    let committed = ContinuousClock.now
                    let events = try await watching.value
                    let elapsed = ContinuousClock.now - committed
                    #expect(events.last?.data["text"] as? String == "Я из другого процесса")
                    #expect(elapsed < .seconds(1), "arrived \(elapsed) after the other process committed it")
                }
            }
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// The widget's OpenAPI document (`Templates/api/widget-openapi.json`, served at `/widget/api/openapi.json`) and the
/// widget's routes, held to each other; and the rules it states that a schema checker would not find on its own.
@Suite("Widget API: the OpenAPI document describes exactly what is served")
struct WidgetOpenAPITests {
    static var documentData: Data {
        get throws { try #require(FileManager.default.contents(atPath: TestDatabase.packageRoot + "/Templates/api/widget-openapi.json")) }
    }

    /// The router's routes under `/widget/api/` as "METHOD /path" (without the CORS preflights), and the document's
    /// operations the same way.
    @Test func everyRouteIsInTheDocumentAndEveryDocumentedOperationIsARoute() async throws {
        try await TestEnvironment.with { env in
            let router = try buildRouter(env.services)
            let served = Set(
                router.routes.filter { $0.path.description.hasPrefix(WidgetURL.api + "/") && $0.method != .options }.map { route in
                    route.method.rawValue + " " + route.path.description
                })
            let data = try Self.documentData
            let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            var described: Set<String> = []
            for (verb, path, operation) in try OpenAPITests.operations(in: document) {
                described.insert(verb.uppercased() + " " + path)
                let responses = operation["responses"] as? [String: Any] ?? [:]
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(verb) \(path) has no success")
                #expect(operation["operationId"] is String, "\(verb) \(path) has no operationId")
                // Every operation that takes the visitor's token says what no token gets; every body, what a bad one does.
                let open = (operation["security"] as? [Any])?.isEmpty == true
                #expect(open || responses["401"] != nil, "\(verb) \(path): 401")
                if operation["requestBody"] != nil {
                    #expect(["400", "413", "415", "422"].allSatisfy { responses[$0] != nil }, "\(verb) \(path): body problems")
                }
            }
            #expect(served.count >= 12)
            #expect(served.subtracting(described).isEmpty, "served but not described: \(served.subtracting(described).sorted())")
            #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served).sorted())")
            let schemes = (document["components"] as? [String: Any])?["securitySchemes"] as? [String: [String: String]]
            #expect(schemes?["visitor"]?["scheme"] == "bearer")
            // White label: the document is the shop's.
            #expect(!String(decoding: data, as: UTF8.self).lowercased().contains("vitrina"))
            // Formatted as `json.dumps(doc, indent=2, ensure_ascii=False) + "\n"` writes it: two spaces, a final newline.
            #expect(String(decoding: data, as: UTF8.self).hasPrefix("{\n  \"openapi\"") && data.last == UInt8(ascii: "\n"))
        }
    }

    @Test func theDocumentIsServedOnTheShopsHostWithoutATokenAndAllItsReferencesResolve() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            try await env.withApp { client in
                let response = try await WidgetClient(client: client, host: "tea.vitrina.test").call(.get, WidgetURL.openapi.path)
                #expect(response.status == .ok && response.headers[.contentType] == "application/json")
                #expect(Data(buffer: response.body) == (try Self.documentData))
                let document = response.object
                let missing = OpenAPITests.unresolvedReferences(in: response.text, document: document)
                #expect(missing.isEmpty, "\(missing)")
                // Every link names an operation the document has.
                let operations = Set(response.text.matches(of: /"operationId": "([A-Za-z]+)"/).map { String($0.output.1) })
                let linked = Set(
                    response.text.matches(of: /"operationId": "([A-Za-z]+)",\s*"(?:parameters|requestBody|description)"/).map {
                        String($0.output.1)
                    })
                #expect(!linked.isEmpty && linked.isSubset(of: operations))
                // Not on the platform's own host: the widget is a shop's.
                #expect(try await client.get(WidgetURL.openapi.path, host: "vitrina.test").status == .notFound)
            }
        }
    }

    @Test func anotherMethodIsA405WithAllowAndAnUnknownPathA404Problem() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            try await env.withApp { client in
                let widget = WidgetClient(client: client, host: "tea.vitrina.test")
                let wrong = try await widget.call(.get, WidgetURL.visitors.path)
                #expect(wrong.isProblem("method-not-allowed", .methodNotAllowed))
                #expect(wrong.headers[.allow]?.contains("POST") == true)
                let delete = try await widget.call(.delete, WidgetURL.conversation.path)
                #expect(delete.isProblem("method-not-allowed", .methodNotAllowed) && delete.headers[.allow]?.contains("GET") == true)
                #expect(try await widget.call(.get, WidgetURL.api + "/nothing-here").isProblem("not-found", .notFound))
            }
        }
    }

    /// What the document states and a schema checker sees only by trying: lengths in code points as sent, unknown
    /// fields and nulls refused, the forms' formats, read receipts and ratings only for the visitor's own.
    @Test func bodiesAreRefusedAsTheDocumentStates() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            try await env.withApp { client in
                let widget = WidgetClient(client: client, host: "tea.vitrina.test")
                #expect(try await widget.call(.post, WidgetURL.visitors.path, json: #"{"bot": "nope"}"#).isProblem("not-found", .notFound))
                let unknown = try await widget.call(.post, WidgetURL.visitors.path, json: #"{"bots": "assistant"}"#)
                #expect(unknown.isProblem("validation", .unprocessableContent) && unknown.problemFields == ["bots"])
                #expect(try await widget.call(.post, WidgetURL.visitors.path, json: #"{"bot": null}"#).problemFields == ["bot"])
                let shopper = try await widget.visitor()
                // 2,000 code points as sent: 1,000 letters with a combining accent each fit, 1,001 do not.
                let accented = String(repeating: "e\u{301}", count: 1000)
                #expect(try await shopper.call(.post, WidgetURL.messages.path, json: #"{"text": "\#(accented)"}"#).status == .accepted)
                let over = try await shopper.call(.post, WidgetURL.messages.path, json: #"{"text": "\#(accented)é"}"#)
                #expect(over.problemFields == ["text"])
                let null = try await shopper.call(.post, WidgetURL.messages.path, json: #"{"text": "hi", "client_id": null}"#)
                #expect(null.problemFields == ["client_id"])
                let forms: [(String, String, Set<String>)] = [
                    (#"{"email": "a@b"}"#, "contact", ["email"]), (#"{"email": " \t"}"#, "contact", []),
                    (#"{"phone": "12-34"}"#, "contact", ["phone"]), (#"{"phone": " +7 900 000-00-01 "}"#, "contact", []),
                    (#"{"phone": "12345\u0001"}"#, "contact", ["phone"]), (#"{"email": "a@b.c\u0001"}"#, "contact", ["email"]),
                    (#"{"name": "\#(String(repeating: "я", count: 201))"}"#, "contact", ["name"]),
                    (#"{"text": "hi"}"#, "contact", ["text"]),
                    (#"{"text": "hi"}"#, "offline", ["email"]), (#"{"email": "a@b.c", "text": " "}"#, "offline", ["text"]),
                ]
                for (body, form, refused) in forms {
                    let response = try await shopper.call(.post, WidgetURL.api + "/" + form, json: body)
                    #expect(refused.isEmpty ? response.status.code < 300 : response.problemFields == refused, "\(form) \(body)")
                }
            }
        }
    }

    @Test func retriesReceiptsAndRatingsStayWithTheVisitorsOwnMessagesAndConversations() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            try await env.withApp { client in
                let shopper = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                let sent = try await shopper.call(
                    .post, WidgetURL.messages.path, json: #"{"text": "Сколько идёт доставка?", "client_id": "c-1"}"#)
                let message = try #require((sent.object["message"] as? [String: Any])?["id"] as? Int)
                let first = try #require((sent.object["conversation"] as? [String: Any])?["id"] as? Int)
                // A new conversation, then a retry of the first message: the same message, in the conversation it is in.
                #expect(try await shopper.call(.post, WidgetURL.conversations.path, json: "{}").status == .created)
                let retry = try await shopper.call(
                    .post, WidgetURL.messages.path, json: #"{"text": "Сколько идёт доставка?", "client_id": "c-1"}"#)
                #expect((retry.object["message"] as? [String: Any])?["id"] as? Int == message)
                #expect((retry.object["conversation"] as? [String: Any])?["id"] as? Int == first)
                let read = #"{"conversation": \#(first), "message": \#(message)}"#
                #expect(try await shopper.call(.post, WidgetURL.read.path, json: read).status == .noContent)
                let elsewhere = #"{"conversation": \#(first), "message": \#(message + 1000)}"#
                #expect(try await shopper.call(.post, WidgetURL.read.path, json: elsewhere).isProblem("not-found", .notFound))
                let stranger = try await WidgetClient(client: client, host: "tea.vitrina.test").visitor()
                #expect(try await stranger.call(.post, WidgetURL.read.path, json: read).isProblem("not-found", .notFound))
                let rating = #"{"conversation": \#(first), "rating": 5}"#
                #expect(try await stranger.call(.post, WidgetURL.csat.path, json: rating).isProblem("not-found", .notFound))
                #expect(try await shopper.call(.post, WidgetURL.csat.path, json: rating).isProblem("conflict", .conflict))
            }
        }
    }
}

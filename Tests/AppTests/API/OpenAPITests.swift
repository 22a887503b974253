import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("API: the OpenAPI document describes exactly what is served")
struct OpenAPITests {
    /// The router's routes under `/api/` as "METHOD /path/{param}", and the document's operations the same way.
    @Test func everyRouteIsInTheDocumentAndEveryDocumentedOperationIsARoute() async throws {
        try await TestEnvironment.with { env in
            let router = try buildRouter(env.services)
            let served = Set(
                router.routes.filter { $0.path.description.hasPrefix("/api/") }.map { route in
                    // Hummingbird writes a capture as `{name}`, as OpenAPI does.
                    route.method.rawValue + " " + route.path.description
                })
            let data = try #require(FileManager.default.contents(atPath: TestDatabase.packageRoot + "/Templates/api/openapi.json"))
            let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            var described: Set<String> = []
            for (verb, path, operation) in try Self.operations(in: document) {
                // A messenger's connection is one route, `{kind}`, described once per kind (each with its own body).
                let route = path.replacingOccurrences(
                    of: "/channels/(telegram|whatsapp|alice)$", with: "/channels/{kind}", options: .regularExpression)
                described.insert(verb.uppercased() + " " + route)
                let responses = operation["responses"] as? [String: Any] ?? [:]
                #expect(!responses.isEmpty, "\(verb) \(path) has no responses")
                if path != "/api/v1/openapi.json" {
                    #expect(["401", "403", "429"].allSatisfy { responses[$0] != nil }, "\(verb) \(path): problem responses")
                }
            }
            #expect(served.count >= 20)
            #expect(served.subtracting(described).isEmpty, "served but not described: \(served.subtracting(described).sorted())")
            #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served).sorted())")
            let schemes = (document["components"] as? [String: Any])?["securitySchemes"] as? [String: [String: String]]
            #expect(schemes?["bearer"]?["scheme"] == "bearer")
            #expect(!String(decoding: data, as: UTF8.self).lowercased().contains("vitrina"))
        }
    }

    @Test func theDocumentIsServedWithoutAKeyAndAllItsReferencesResolve() async throws {
        try await TestEnvironment.with { env in
            try await env.withApp { client throws in
                let response = try await APIClient(client, token: nil).get("/api/v1/openapi.json")
                #expect(response.status == .ok && response.headers[.contentType] == "application/json")
                let text = response.text
                let document = response.object
                let missing = Self.unresolvedReferences(in: text, document: document)
                #expect(missing.isEmpty, "\(missing)")
            }
        }
    }

    /// Every operation of the document's `paths`: its verb (lower case, as written), path and object (shared with the
    /// widget's document).
    static func operations(in document: [String: Any]) throws -> [(verb: String, path: String, operation: [String: Any])] {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let verbs: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        return try paths.flatMap { path, item in
            try item.filter { verbs.contains($0.key) }.map { verb, value in (verb, path, try #require(value as? [String: Any])) }
        }
    }

    /// The `#/…` pointers of every `$ref` in the document's text that lead nowhere (shared with the widget's document).
    static func unresolvedReferences(in text: String, document: [String: Any]) -> [String] {
        var missing: [String] = []
        var search = text[...]
        while let range = search.range(of: "\"$ref\": \"#/") {
            let rest = search[range.upperBound...]
            let pointer = rest.prefix { $0 != "\"" }
            var node: Any? = document
            for part in pointer.split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
            if node == nil { missing.append(String(pointer)) }
            search = rest
        }
        return missing
    }
}

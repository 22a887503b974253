import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

/// A client of the API with one key (or none).
struct APIClient {
    let client: any TestClientProtocol
    var token: String?
    var host = "api.example.org"

    init(_ client: any TestClientProtocol, token: String?) {
        self.client = client
        self.token = token
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, contentType: String = "application/json"
    ) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Forwarded-Host")!] = host
        if let token { headers[.authorization] = "Bearer " + token }
        if json != nil { headers[.contentType] = contentType }
        return try await client.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func get(_ path: String) async throws -> TestResponse { try await call(.get, path) }
}

extension TestResponse {
    /// The body as a JSON object (empty when it is not one).
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    /// `data` of a list.
    var items: [[String: Any]] { object["data"] as? [[String: Any]] ?? [] }

    /// Whether this is a problem document of the given kind and status (with all of RFC 9457's members).
    func isProblem(_ kind: String, _ status: HTTPResponse.Status) -> Bool {
        let json = object
        return self.status == status && headers[.contentType] == "application/problem+json"
            && json["type"] as? String == "/api/v1/problems/" + kind && json["status"] as? Int == Int(status.code)
            && (json["title"] as? String)?.isEmpty == false && json["detail"] is String
    }

    /// The fields named in a validation problem's `errors`.
    var problemFields: Set<String> {
        Set((object["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
    }
}

extension TestEnvironment {
    func partnerID(_ slug: String) async throws -> UUID {
        try #require(try await scalar("SELECT id FROM platform.partners WHERE slug = \(slug)", as: UUID.self))
    }

    /// A key made the way the panel makes one; returns the token.
    func makeKey(_ owner: APIKeyOwner, name: String = "test", scopes: [APIScope], createdBy: UUID? = nil) async throws -> String {
        let store = services.apiKeys
        return try await store.create(
            owner: owner, name: name, scopes: scopes, createdBy: createdBy,
            audit: AuditEntry(actorID: nil, actorEmail: nil, action: "api_key.created", target: name, address: nil)
        ).token
    }

    /// A partner key with every partner scope.
    func partnerKey(_ partner: String, scopes: [APIScope] = APIScope.partnerScopes) async throws -> String {
        try await makeKey(.partner(try await partnerID(partner)), name: partner + " key", scopes: scopes)
    }

    /// A tenant key with every tenant scope.
    func tenantKey(_ tenant: String, scopes: [APIScope] = APIScope.tenantScopes, createdBy: UUID? = nil) async throws -> String {
        let id = try #require(try await provisioner.lookup(slug: tenant))
        return try await makeKey(.tenant(id), name: tenant + " key", scopes: scopes, createdBy: createdBy)
    }
}

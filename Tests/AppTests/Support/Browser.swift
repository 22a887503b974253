import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

/// A browser on one host for router tests: keeps that host's cookies, sends forms with the page's CSRF token, and
/// reaches the app through a trusted proxy (`X-Forwarded-Host`, and `X-Forwarded-Proto: https` when `secure`).
struct Browser {
    let client: any TestClientProtocol
    var host: String
    var secure = false
    var cookies: [String: String] = [:]
    /// The `_csrf` value of the last HTML page fetched.
    var csrf: String?
    var address = "203.0.113.7"

    init(_ client: any TestClientProtocol, host: String, secure: Bool = false) {
        self.client = client
        self.host = host
        self.secure = secure
    }

    var headers: HTTPFields {
        var fields = HTTPFields()
        fields[HTTPField.Name("X-Forwarded-Host")!] = host
        fields[HTTPField.Name("X-Forwarded-For")!] = address
        if secure { fields[HTTPField.Name("X-Forwarded-Proto")!] = "https" }
        if !cookies.isEmpty { fields[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        return fields
    }

    @discardableResult
    mutating func get(_ path: String) async throws -> TestResponse {
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        remember(response)
        return response
    }

    /// POSTs a form; the CSRF field is the last page's unless `csrf` is given (`""` sends none).
    @discardableResult
    mutating func post(_ path: String, _ fields: [String: String] = [:], csrf override: String? = nil) async throws -> TestResponse {
        var form = fields
        let token = override ?? csrf ?? ""
        if !token.isEmpty { form["_csrf"] = token }
        var headers = self.headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = form.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        remember(response)
        return response
    }

    /// POSTs a `multipart/form-data` form with files (field name → file name, type, bytes), with the page's CSRF token.
    @discardableResult
    mutating func postMultipart(
        _ path: String, _ fields: [String: String] = [:], files: [String: (name: String, type: String, bytes: [UInt8])] = [:]
    ) async throws -> TestResponse {
        let boundary = "----form" + UUID().uuidString
        var body: [UInt8] = []
        var form = fields
        if let csrf { form["_csrf"] = csrf }
        for (key, value) in form {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(key)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for (key, file) in files {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(key)\"; filename=\"\(file.name)\"\r\nContent-Type: \(file.type)\r\n\r\n"
                    .utf8)
            body += file.bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        var headers = self.headers
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
        remember(response)
        return response
    }

    /// Signs in through the form, the way a person would.
    @discardableResult
    mutating func signIn(_ email: String, _ password: String) async throws -> TestResponse {
        try await get("/admin/login")
        return try await post("/admin/login", ["email": email, "password": password])
    }

    var sessionCookieName: String { secure ? "__Host-sid" : "sid" }
    var session: String? { cookies[sessionCookieName] }

    private mutating func remember(_ response: TestResponse) {
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let name = String(pair[0])
            if header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = String(pair[1]) }
        }
        let html = String(buffer: response.body)
        if let range = html.range(of: "name=\"_csrf\" value=\"") {
            let rest = html[range.upperBound...]
            csrf = String(rest.prefix { $0 != "\"" })
        }
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

extension TestResponse {
    var location: String? { headers[.location] }
}

extension TestEnvironment {
    /// An account with a password and one role.
    @discardableResult
    func makeUser(
        _ email: String, password: String = "correct-horse-battery", role: Role, tenant: String? = nil, partner: String? = nil
    )
        async throws -> UserRecord
    {
        let scope: UserAdmin.Scope = tenant.map { .tenant(slug: $0) } ?? partner.map { .partner(slug: $0) } ?? .platform
        try await services.userAdmin.create(email: email, name: "", role: role, scope: scope, password: password)
        return try #require(try await services.users.find(email: email))
    }

    /// The link in the newest outbox message to `email` (invitations and resets).
    func linkInLastMail(to email: String) async throws -> String? {
        let rows = try await client.query(
            "SELECT text_body FROM platform.outbox WHERE to_address = \(email) ORDER BY id DESC LIMIT 1", logger: TestDatabase.logger)
        for try await (text) in rows.decode(String.self) {
            guard let range = text.range(of: "http") else { return nil }
            return String(text[range.lowerBound...].prefix { !$0.isWhitespace })
        }
        return nil
    }

    func scalar<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        let rows = try await client.query(query, logger: TestDatabase.logger)
        for try await (value) in rows.decode(T.self) { return value }
        return nil
    }
}

import Foundation
import Hummingbird

/// What the bot's API controllers share: the key's shop, and transactions through the tenant door whose refusals
/// (`BotSettingsError`) become 422 problems naming the field.
struct BotAPIAccess: Sendable {
    let tenants: TenantDatabase
    let directory: TenantDirectory

    /// The key's shop, as the directory holds it.
    func shop(_ context: APIRequestContext) async throws -> TenantRecord {
        guard let tenant = try await directory.tenant(id: try context.tenantID()) else {
            throw APIError.notFound("The key's shop is gone.")
        }
        return tenant
    }

    func read<T: Sendable>(
        _ tenant: TenantRecord, _ context: APIRequestContext, _ body: @Sendable (TenantConnection) async throws -> T
    ) async throws -> T {
        try await tenants.withTenant(tenant, readOnly: true, logger: context.logger, body)
    }

    /// A write in the shop's transaction; a setting the store refuses is a field problem (`field` unless the sentence
    /// starts with its own field, as "slug: …" does), not a 500.
    func write<T: Sendable>(
        _ tenant: TenantRecord, _ context: APIRequestContext, field: String,
        _ body: @Sendable (TenantConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await tenants.withTenant(tenant, logger: context.logger, body)
        } catch let error as BotSettingsError {
            throw APIError.validation([Self.problem(error, field: field)])
        }
    }

    static func problem(_ error: BotSettingsError, field: String) -> FieldProblem {
        let text = error.description
        if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy({ $0.isLetter || $0 == "_" || $0 == "." }),
            !text[..<colon].isEmpty
        {
            let message = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            return FieldProblem(field: String(text[..<colon]), message: message.prefix(1).uppercased() + message.dropFirst())
        }
        return FieldProblem(field: field, message: text)
    }

    /// The store's field checks (sentences keyed by field) as a 422, if there are any.
    static func refuse(_ errors: [String: String], prefix: String = "") throws {
        guard !errors.isEmpty else { return }
        throw APIError.validation(errors.sorted { $0.key < $1.key }.map { FieldProblem(field: prefix + $0.key, message: $0.value) })
    }

    /// A check's refusal as its sentence (the checks throw `BotSettingsError`; anything else says nothing of itself).
    static func sentence(_ error: any Error) -> String {
        (error as? BotSettingsError)?.description ?? "Not valid."
    }

    static let noBot = APIError.notFound("This shop has no bot.")
}

/// Any key of a JSON object, to tell the fields a body may not have.
struct JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where K == JSONKey {
    /// The keys outside `allowed`, as field names under `prefix`.
    func unknown(_ allowed: Set<String>, prefix: String = "") -> [String] {
        allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted().map { prefix + $0 }
    }

    /// A value that may be absent (`nil`) or JSON `null` (`.some(nil)`).
    func nullable<T: Decodable>(_ type: T.Type, _ key: String) throws -> T?? {
        guard contains(JSONKey(key)) else { return nil }
        if try decodeNil(forKey: JSONKey(key)) { return .some(nil) }
        return .some(try decode(T.self, forKey: JSONKey(key)))
    }

    func optional<T: Decodable>(_ type: T.Type, _ key: String) throws -> T? {
        try decodeIfPresent(T.self, forKey: JSONKey(key))
    }
}

extension [String] {
    /// Fields a body may not have, as a 422.
    func refuseUnknown() throws {
        guard !isEmpty else { return }
        throw APIError.validation(map { FieldProblem(field: $0, message: "Unknown field.") })
    }
}

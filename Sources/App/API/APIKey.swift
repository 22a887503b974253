import Foundation
import PostgresNIO

/// What an API key may do. Partner keys carry partner scopes, tenant keys tenant scopes; nothing else.
public enum APIScope: String, Sendable, CaseIterable, Codable {
    /// Every read under the partner: tenants, their domains, members and branding, and the partner's own branding.
    case tenantsRead = "tenants:read"
    case tenantsWrite = "tenants:write"
    case domainsWrite = "domains:write"
    case brandingWrite = "branding:write"
    case usersWrite = "users:write"
    case articlesRead = "articles:read"
    case articlesWrite = "articles:write"
    /// The bot's settings, FAQ, synonyms, templates and rules.
    case botRead = "bot:read"
    /// Change them, and send the bot messages (`POST /api/v1/bot/messages`).
    case botWrite = "bot:write"
    /// The shop's conversations, their messages and events.
    case conversationsRead = "conversations:read"
    /// Reply as an operator, assign, resolve, hand back to the bot (acting as the key's creator).
    case conversationsWrite = "conversations:write"

    public static let partnerScopes: [APIScope] = [.tenantsRead, .tenantsWrite, .domainsWrite, .brandingWrite, .usersWrite]
    public static let tenantScopes: [APIScope] = [
        .articlesRead, .articlesWrite, .botRead, .botWrite, .conversationsRead, .conversationsWrite,
    ]

    /// The scopes a key of this kind of owner can hold.
    public static func available(for owner: APIKeyOwner) -> [APIScope] {
        switch owner {
        case .partner: partnerScopes
        case .tenant: tenantScopes
        }
    }
}

/// Whose data a key reaches: one partner (and its tenants) or one tenant.
public enum APIKeyOwner: Sendable, Equatable {
    case partner(UUID)
    case tenant(UUID)

    var partnerID: UUID? { if case .partner(let id) = self { id } else { nil } }
    var tenantID: UUID? { if case .tenant(let id) = self { id } else { nil } }
}

/// A key that authenticated a request.
public struct AuthenticatedKey: Sendable {
    public let id: UUID
    public let owner: APIKeyOwner
    public let name: String
    public let prefix: String
    public let scopes: Set<APIScope>
    /// The tenant's partner, for a tenant key (for audit entries).
    public let tenantPartnerID: UUID?
    /// Who made the key: the operator a conversations key replies and acts as.
    public var createdBy: UUID? = nil

    /// How audit entries name the key: people recognise it by its name and prefix, never by its secret.
    public var actor: String { "api key \(name) (\(prefix))" }
}

/// A key as the panel lists it.
public struct APIKeyListing: Sendable, RowDecodable {
    public let id: UUID
    public let name: String
    public let prefix: String
    public let scopes: [String]
    public let createdAt: Date
    public let createdBy: String?
    public let lastUsedAt: Date?
    public let revokedAt: Date?

    public init(row: PostgresRow) throws {
        (id, name, prefix, scopes, createdAt, createdBy, lastUsedAt, revokedAt) = try row.decode(
            (UUID, String, String, [String], Date, String?, Date?, Date?).self)
    }
}

/// Key tokens: `ak_` + 8 lower-case letters and digits (the prefix, shown in lists) + `_` + 43 base64url characters
/// (256 random bits). The prefix says nothing about the product: partners' clients see only their brand.
public enum APIKeyToken {
    static let prefixLength = 11
    static let tokenLength = prefixLength + 1 + 43

    /// A new token and its prefix.
    public static func make() -> (prefix: String, token: String) {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let prefix = "ak_" + String((0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        return (prefix, prefix + "_" + SecretToken.make())
    }

    /// A shape check before any database look-up.
    public static func looksValid(_ token: String) -> Bool {
        let bytes = Array(token.utf8)
        guard bytes.count == tokenLength, token.hasPrefix("ak_"), bytes[prefixLength] == UInt8(ascii: "_") else { return false }
        let prefixOK = bytes[3..<prefixLength].allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
        return prefixOK && SecretToken.looksValid(String(token.dropFirst(prefixLength + 1)))
    }
}

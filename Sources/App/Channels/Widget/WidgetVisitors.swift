import Crypto
import Foundation

/// Widget visitors: a random token per browser (kept in the widget's storage, sent in the `Authorization` header,
/// never in a URL; stored here as its SHA-256) and the contact behind it. An anonymous visitor's contact has the
/// identity `widget / visitor:<uuid>`; a shop's signed-in customer's, `widget / customer:<sub>`, which every browser the
/// customer signs in from reaches, while an unsigned claim never can. Always inside the tenant's transaction.
public struct WidgetVisitors: Sendable {
    public struct Visitor: Sendable, Equatable {
        public var contactID: Int
        /// The shop's customer id, for a token given for a signed identity.
        public var customer: String?
    }

    public init() {}

    /// A new anonymous visitor and its token.
    public func create(on tenant: TenantConnection) async throws -> (token: String, visitor: Visitor) {
        let token = Self.newToken()
        let external = "visitor:" + UUID().uuidString.lowercased()
        let contact = try await tenant.value(
            Int.self,
            """
            WITH c AS (INSERT INTO contacts DEFAULT VALUES RETURNING id),
            i AS (INSERT INTO contact_identities (channel, external_id, contact_id) SELECT 'widget', \(external), id FROM c),
            v AS (INSERT INTO widget_visitors (token_hash, contact_id) SELECT \(Self.hash(token)), id FROM c)
            SELECT id::int FROM c
            """)
        guard let contact else { throw IdentityError.notFound }
        return (token, Visitor(contactID: contact, customer: nil))
    }

    /// The visitor a token stands for, or nil (unknown, or its contact was deleted).
    public func authenticate(_ token: String, on tenant: TenantConnection) async throws -> Visitor? {
        guard (20...100).contains(token.utf8.count) else { return nil }
        guard
            let row = try await tenant.value(
                (Int, String?).self,
                """
                UPDATE widget_visitors SET last_seen_at = now() WHERE token_hash = \(Self.hash(token))
                RETURNING contact_id::int, customer
                """)
        else { return nil }
        return Visitor(contactID: row.0, customer: row.1)
    }

    /// A token for the shop's signed-in customer: their contact (created on first sight, name and e-mail kept
    /// current from the identity) and a new token for this browser.
    public func identify(_ identity: SignedIdentity, on tenant: TenantConnection) async throws -> (token: String, visitor: Visitor) {
        let token = Self.newToken()
        let external = "customer:" + identity.subject
        let contact = try await ConversationStore().contact(channel: .widget, externalID: external, name: identity.name, on: tenant)
        try await tenant.execute(
            """
            UPDATE contacts SET name = coalesce(\(identity.name), name), email = coalesce(\(identity.email), email),
                phone = coalesce(\(identity.phone), phone), updated_at = now()
            WHERE id = \(contact)
            """)
        try await tenant.execute(
            """
            INSERT INTO widget_visitors (token_hash, contact_id, customer) VALUES (\(Self.hash(token)), \(contact), \(identity.subject))
            """)
        return (token, Visitor(contactID: contact, customer: identity.subject))
    }

    /// 32 random bytes, base64url.
    static func newToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }
}

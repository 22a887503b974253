import Foundation

/// A person who can sign in: one per e-mail address across the installation.
public struct UserRecord: Sendable, Equatable {
    public var id: UUID
    public var email: String
    public var name: String
    public var language: String?
    public var passwordHash: String?

    /// The name to show: the person's name, else their address.
    public var displayName: String { name.isEmpty ? email : name }
}

/// A signed-in request's user, session and roles on the request's site.
public struct SignedInUser: Sendable {
    public var sessionID: UUID
    public var user: UserRecord
    /// Every role of this user's memberships that can apply to the request's site.
    public var roles: [Role]
    public var csrfToken: String
    public var flash: Flash?
    /// A support sign-in: who is really at the keyboard, why, and until when.
    public var impersonator: Impersonator?
}

/// The staff member behind a support sign-in.
public struct Impersonator: Sendable {
    public var email: String
    public var reason: String
    public var endsAt: Date
}

/// A one-shot message shown on the next page (after a redirect).
public struct Flash: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case success, error }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// E-mail addresses as stored: trimmed and lower-cased, checked for a plausible shape.
public enum EmailAddress {
    public static func normalize(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    public static func isValid(_ email: String) -> Bool {
        // ASCII only and nothing that SMTP or a mail header would refuse: an address we cannot mail is no use.
        let forbidden = Set("<>,;:()[]\\\"".unicodeScalars)
        guard (3...254).contains(email.utf8.count),
            email.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !forbidden.contains($0) })
        else {
            return false
        }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return false }
        let domain = parts[1]
        return domain.contains(".") && !domain.hasPrefix(".") && !domain.hasSuffix(".") && !domain.contains("..")
    }
}

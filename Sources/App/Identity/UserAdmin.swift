import Foundation
import PostgresNIO

/// The operator's tools for accounts (`vitrina users …`): create with a role, reset a password. Every change is audited.
public struct UserAdmin: Sendable {
    let database: Database
    let users: UserStore
    let hasher: PasswordHasher
    let sessions: SessionStore
    let auditLog: AuditLog

    public init(database: Database, users: UserStore, hasher: PasswordHasher, sessions: SessionStore, auditLog: AuditLog) {
        self.database = database
        self.users = users
        self.hasher = hasher
        self.sessions = sessions
        self.auditLog = auditLog
    }

    /// Where a new account's role applies.
    public enum Scope: Sendable {
        case platform
        case partner(slug: String)
        case tenant(slug: String)
    }

    public enum Failure: Error, CustomStringConvertible {
        case invalidEmail(String)
        case weakPassword(String)
        case unknownTenant(String)
        case unknownPartner(String)
        case roleNotAllowed(Role, String)
        case unknownUser(String)

        public var description: String {
            switch self {
            case .invalidEmail(let email): "'\(email)' is not an e-mail address."
            case .weakPassword(let reason): "The password is \(reason)."
            case .unknownTenant(let slug): "There is no tenant '\(slug)'."
            case .unknownPartner(let slug): "There is no partner '\(slug)'."
            case .roleNotAllowed(let role, let scope): "The role \(role.rawValue) cannot be given on \(scope)."
            case .unknownUser(let email): "There is no user with the address \(email)."
            }
        }
    }

    /// A password people can type: 4 groups of 5 letters and digits (about 100 bits).
    public static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }) }
            .joined(separator: "-")
    }

    /// Creates the account (or finds it), sets its password and gives it the role. Returns whether it was new.
    @discardableResult
    public func create(email rawEmail: String, name: String, role: Role, scope: Scope, password: String) async throws -> Bool {
        let email = EmailAddress.normalize(rawEmail)
        guard EmailAddress.isValid(email) else { throw Failure.invalidEmail(rawEmail) }
        if let problem = PasswordPolicy.problem(with: password) { throw Failure.weakPassword(Self.reason(problem)) }
        let hash = try await hasher.hashOffLoop(password)
        return try await database.transaction { transaction in
            var tenantID: UUID?
            var partnerID: UUID?
            var scopeName = "the platform"
            switch scope {
            case .platform:
                guard role == .platformAdmin else { throw Failure.roleNotAllowed(role, scopeName) }
            case .partner(let slug):
                scopeName = "partner \(slug)"
                guard Role.partnerRoles.contains(role) else { throw Failure.roleNotAllowed(role, scopeName) }
                partnerID = try await transaction.value(UUID.self, "SELECT id FROM platform.partners WHERE slug = \(slug)")
                guard partnerID != nil else { throw Failure.unknownPartner(slug) }
            case .tenant(let slug):
                scopeName = "tenant \(slug)"
                guard Role.tenantRoles.contains(role) else { throw Failure.roleNotAllowed(role, scopeName) }
                if let (id, partner) = try await transaction.value(
                    (UUID, UUID?).self,
                    "SELECT id, partner_id FROM platform.tenants WHERE slug = \(slug) AND status IN ('active', 'suspended')")
                {
                    tenantID = id
                    partnerID = partner
                }
                guard tenantID != nil else { throw Failure.unknownTenant(slug) }
            }
            let existing = try await users.find(email: email, on: transaction)
            let user = try await users.findOrCreate(email: email, name: name, on: transaction)
            try await users.setPassword(userID: user.id, hash: hash, on: transaction)
            if !name.isEmpty { try await users.setName(userID: user.id, name: name, on: transaction) }
            if case .tenant = scope {
                try await users.grant(role, userID: user.id, tenantID: tenantID, partnerID: nil, on: transaction)
            } else {
                try await users.grant(role, userID: user.id, tenantID: nil, partnerID: partnerID, on: transaction)
            }
            try await auditLog.record(
                AuditEntry(
                    actorID: nil, actorEmail: nil, partnerID: partnerID, tenantID: tenantID, action: "users.created", target: email,
                    details: ["role": role.rawValue], address: nil), on: transaction)
            return existing == nil
        }
    }

    /// Sets a new password and ends every session of the account.
    public func resetPassword(email rawEmail: String, password: String) async throws {
        let email = EmailAddress.normalize(rawEmail)
        guard let user = try await users.find(email: email) else { throw Failure.unknownUser(email) }
        if let problem = PasswordPolicy.problem(with: password) { throw Failure.weakPassword(Self.reason(problem)) }
        try await users.setPassword(userID: user.id, hash: try await hasher.hashOffLoop(password))
        try await sessions.deleteAll(userID: user.id)
        try await auditLog.record(AuditEntry(actorID: nil, actorEmail: nil, action: "users.password_reset", target: email, address: nil))
    }

    static func reason(_ problem: String) -> String {
        ["password_too_short": "shorter than 10 characters", "password_too_long": "longer than 200 characters"][problem]
            ?? "one of the most common passwords"
    }
}

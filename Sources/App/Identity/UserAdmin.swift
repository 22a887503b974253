import Foundation
import Logging
import PostgresNIO

/// The operator's tools for accounts (`vitrina users …`): create with a role, reset a password. Every change is audited.
public struct UserAdmin: Sendable {
    let identity: IdentityServices

    public init(identity: IdentityServices) {
        self.identity = identity
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
        let hash = try await identity.hasher.hashOffLoop(password)
        let logger = identity.logger
        return try await identity.client.platformTransaction(logger: logger) { connection in
            var tenantID: UUID?
            var partnerID: UUID?
            var scopeName = "the platform"
            switch scope {
            case .platform:
                guard role == .platformAdmin else { throw Failure.roleNotAllowed(role, scopeName) }
            case .partner(let slug):
                scopeName = "partner \(slug)"
                guard Role.partnerRoles.contains(role) else { throw Failure.roleNotAllowed(role, scopeName) }
                let rows = try await connection.query("SELECT id FROM platform.partners WHERE slug = \(slug)", logger: logger)
                for try await (id) in rows.decode(UUID.self) { partnerID = id }
                guard partnerID != nil else { throw Failure.unknownPartner(slug) }
            case .tenant(let slug):
                scopeName = "tenant \(slug)"
                guard Role.tenantRoles.contains(role) else { throw Failure.roleNotAllowed(role, scopeName) }
                let rows = try await connection.query(
                    "SELECT id, partner_id FROM platform.tenants WHERE slug = \(slug) AND status IN ('active', 'suspended')", logger: logger
                )
                for try await (id, partner) in rows.decode((UUID, UUID?).self) {
                    tenantID = id
                    partnerID = partner
                }
                guard tenantID != nil else { throw Failure.unknownTenant(slug) }
            }
            let existing = try await UserStore.find(email: email, on: connection, logger: logger)
            let user = try await UserStore.findOrCreate(email: email, name: name, on: connection, logger: logger)
            try await UserStore.setPassword(userID: user.id, hash: hash, on: connection, logger: logger)
            if !name.isEmpty {
                try await connection.query("UPDATE platform.users SET name = \(name) WHERE id = \(user.id)", logger: logger)
            }
            if case .tenant = scope {
                try await UserStore.grant(role, userID: user.id, tenantID: tenantID, partnerID: nil, on: connection, logger: logger)
            } else {
                try await UserStore.grant(role, userID: user.id, tenantID: nil, partnerID: partnerID, on: connection, logger: logger)
            }
            try await AuditLog.record(
                AuditEntry(
                    actorID: nil, actorEmail: nil, partnerID: partnerID, tenantID: tenantID, action: "users.created", target: email,
                    details: ["role": role.rawValue], address: nil), on: connection, logger: logger)
            return existing == nil
        }
    }

    /// Sets a new password and ends every session of the account.
    public func resetPassword(email rawEmail: String, password: String) async throws {
        let email = EmailAddress.normalize(rawEmail)
        guard let user = try await identity.users.find(email: email) else { throw Failure.unknownUser(email) }
        if let problem = PasswordPolicy.problem(with: password) { throw Failure.weakPassword(Self.reason(problem)) }
        try await identity.users.setPassword(userID: user.id, hash: try await identity.hasher.hashOffLoop(password))
        try await identity.sessions.deleteAll(userID: user.id)
        try await identity.audit(AuditEntry(actorID: nil, actorEmail: nil, action: "users.password_reset", target: email, address: nil))
    }

    static func reason(_ problem: String) -> String {
        ["password_too_short": "shorter than 10 characters", "password_too_long": "longer than 200 characters"][problem]
            ?? "one of the most common passwords"
    }
}

import Foundation
import PostgresNIO

/// `admins:` lists: people, their roles on the platform, a partner or a tenant, and passwords from the environment.
extension ManifestApplier {
    enum AdminScope {
        case platform
        case partner(slug: String)
        case tenant(slug: String)
    }

    /// Every `password_env` resolved and checked before anything is written; a missing variable or a weak password
    /// refuses the whole file.
    func passwords(_ manifest: Manifest) throws -> [String: String] {
        let all = (manifest.admins ?? []) + manifest.partners.flatMap { $0.admins ?? [] } + manifest.tenants.flatMap { $0.admins ?? [] }
        var passwords: [String: String] = [:]
        var issues: [ManifestIssue] = []
        for admin in all {
            guard let name = admin.passwordEnv else { continue }
            guard let value = environment[name], !value.isEmpty else {
                issues.append(
                    ManifestIssue(
                        file: file, line: nil, path: admin.path + ".password_env",
                        message: "the environment variable \(name) is not set (it holds \(admin.email)'s password)"))
                continue
            }
            if let problem = PasswordPolicy.problem(with: value) {
                let reason =
                    ["password_too_short": "shorter than 10 characters", "password_too_long": "longer than 200 characters"][problem]
                    ?? "one of the most common passwords"
                issues.append(
                    ManifestIssue(
                        file: file, line: nil, path: admin.path + ".password_env", message: "the password in \(name) is \(reason)"))
                continue
            }
            passwords[name] = value
        }
        guard issues.isEmpty else { throw ManifestError(issues: issues) }
        return passwords
    }

    func applyAdmins(
        _ admins: [AdminSpec], owner: String, scope: AdminScope, passwords: [String: String], prune: Bool,
        on connection: Transaction,
        into changes: inout [ManifestChange]
    ) async throws {
        var tenantID: UUID?
        var partnerID: UUID?
        switch scope {
        case .platform: break
        case .tenant(let slug):
            tenantID = try await connection.value(UUID.self, "SELECT id FROM platform.tenants WHERE slug = \(slug) AND status <> 'purged'")
        case .partner(let slug):
            partnerID = try await connection.value(UUID.self, "SELECT id FROM platform.partners WHERE slug = \(slug)")
        }
        if case .platform = scope {} else if tenantID == nil && partnerID == nil { return }
        var current: [String: String] = [:]
        for (email, role) in try await connection.values(
            (String, String).self,
            """
            SELECT u.email, m.role FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
            WHERE m.tenant_id IS NOT DISTINCT FROM \(tenantID) AND m.partner_id IS NOT DISTINCT FROM \(partnerID)
            """)
        {
            current[email] = role
        }

        for admin in admins {
            var user = try await users.findOrCreate(email: admin.email, on: connection)
            if !admin.name.isEmpty, admin.name != user.name {
                try await users.setName(userID: user.id, name: admin.name, on: connection)
                changes.append(.init(kind: .update, text: "name of \(admin.email): \(admin.name)"))
                user.name = admin.name
            }
            if let name = admin.passwordEnv, let password = passwords[name] {
                let stored = user.passwordHash
                var matches = false
                if let stored { matches = try await hasher.verifyOffLoop(password, against: stored) }
                if !matches {
                    let hash = try await hasher.hashOffLoop(password)
                    try await users.setPassword(userID: user.id, hash: hash, on: connection)
                    user.passwordHash = hash
                    changes.append(.init(kind: stored == nil ? .create : .update, text: "password of \(admin.email) (from \(name))"))
                }
            }
            if current[admin.email] != admin.role.rawValue {
                try await users.grant(admin.role, userID: user.id, tenantID: tenantID, partnerID: partnerID, on: connection)
                let kind: ManifestChange.Kind = current[admin.email] == nil ? .create : .update
                changes.append(.init(kind: kind, text: "\(admin.email): \(admin.role.rawValue) of \(owner)"))
            }
        }
        guard prune else { return }
        let listed = Set(admins.map(\.email))
        for (email, role) in current where !listed.contains(email) {
            try await connection.execute(
                """
                DELETE FROM platform.memberships m USING platform.users u
                WHERE u.id = m.user_id AND u.email = \(email)
                    AND m.tenant_id IS NOT DISTINCT FROM \(tenantID) AND m.partner_id IS NOT DISTINCT FROM \(partnerID)
                """)
            changes.append(.init(kind: .remove, text: "\(email): \(role) of \(owner)"))
        }
    }
}

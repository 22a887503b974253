import App
import ArgumentParser
import Foundation

/// `vitrina users …`: accounts and their roles.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create accounts, reset passwords and list who has access.", subcommands: [Create.self, ResetPassword.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account (or add a role to an existing one) and set its password.",
            discussion: """
                Give --tenant with a tenant role (owner, admin, operator, viewer), --partner with a partner role (owner, admin), \
                or --platform-admin. Without --password-stdin a password is generated and printed once.
                """)
        @OptionGroup var options: GlobalOptions
        @Option(help: "The person's e-mail address.") var email: String
        @Option(help: "Their name.") var name: String = ""
        @Option(help: "A tenant's slug.") var tenant: String?
        @Option(help: "A partner's slug.") var partner: String?
        @Flag(help: "Make them an administrator of the whole installation.") var platformAdmin = false
        @Option(help: "owner, admin, operator or viewer (tenant); owner or admin (partner).") var role: String?
        @Flag(help: "Read the password from standard input instead of generating one.") var passwordStdin = false

        func run() async throws {
            try await Runtime.run {
                let (scope, role) = try scopeAndRole()
                let password = try passwordStdin ? Password.readStandardInput() : UserAdmin.generatePassword()
                let created = try await Runtime.withServices(options) { services in
                    _ = try await services.migrator.migrate()
                    return try await services.userAdmin.create(
                        email: email, name: name, role: role, scope: scope, password: password)
                }
                say("\(created ? "Created" : "Updated") \(EmailAddress.normalize(email)) as \(role.rawValue).")
                if !passwordStdin { say("Password (shown once): \(password)") }
            }
        }

        func scopeAndRole() throws -> (UserAdmin.Scope, Role) {
            let chosen = [tenant != nil, partner != nil, platformAdmin].filter { $0 }.count
            guard chosen == 1 else { throw CLIError.usage("Give exactly one of --tenant, --partner or --platform-admin.") }
            if platformAdmin { return (.platform, .platformAdmin) }
            guard let role else { throw CLIError.usage("--role is required with --tenant or --partner.") }
            if let partner {
                guard let parsed = ["owner": Role.partnerOwner, "admin": .partnerAdmin][role] else {
                    throw CLIError.usage("--role for a partner must be owner or admin, not '\(role)'.")
                }
                return (.partner(slug: partner), parsed)
            }
            guard let parsed = Role(rawValue: role), Role.tenantRoles.contains(parsed) else {
                throw CLIError.usage("--role for a tenant must be owner, admin, operator or viewer, not '\(role)'.")
            }
            return (.tenant(slug: tenant ?? ""), parsed)
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password (generated unless --password-stdin) and sign the user out everywhere.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The account's e-mail address.") var email: String
        @Flag(help: "Read the password from standard input instead of generating one.") var passwordStdin = false

        func run() async throws {
            try await Runtime.run {
                let password = try passwordStdin ? Password.readStandardInput() : UserAdmin.generatePassword()
                try await Runtime.withServices(options) { services in
                    try await services.userAdmin.resetPassword(email: email, password: password)
                }
                say("New password set for \(EmailAddress.normalize(email)); their sessions were ended.")
                if !passwordStdin { say("Password (shown once): \(password)") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts and their roles.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only the members of this tenant.") var tenant: String?

        func run() async throws {
            try await Runtime.run {
                let users = try await Runtime.withServices(options) { services in
                    var tenantID: UUID?
                    if let tenant {
                        guard let record = try await services.provisioner.lookup(slug: tenant) else {
                            throw CLIError.usage("There is no tenant '\(tenant)'.")
                        }
                        tenantID = record
                    }
                    return try await services.users.list(tenantID: tenantID)
                }
                if users.isEmpty {
                    say(tenant == nil ? "No accounts yet." : "No one has a role on \(tenant!).")
                    return
                }
                let width = min(40, users.map(\.email.count).max() ?? 10)
                say("EMAIL".padding(toLength: width, withPad: " ", startingAt: 0) + "  PASSWORD  ROLES")
                for user in users {
                    let roles = user.memberships.isEmpty ? "—" : user.memberships.joined(separator: ", ")
                    say(
                        user.email.padding(toLength: max(width, user.email.count), withPad: " ", startingAt: 0)
                            + "  " + (user.hasPassword ? "set     " : "not set ") + "  " + roles)
                }
            }
        }
    }
}

/// Reading a password from standard input (a pipe or a prompt-less terminal), without its line ending.
enum Password {
    static func readStandardInput() throws -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        let text = String(decoding: data, as: UTF8.self)
        let password = text.hasSuffix("\r\n") ? String(text.dropLast(2)) : text.hasSuffix("\n") ? String(text.dropLast()) : text
        guard !password.isEmpty else { throw CLIError.usage("--password-stdin: standard input was empty.") }
        return password
    }
}

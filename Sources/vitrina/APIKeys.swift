import App
import ArgumentParser
import Foundation

/// `vitrina api-keys …`: the provisioning API's keys, for an operator scripting an installation (the panels' **API keys**
/// pages do the same for people).
struct APIKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-keys", abstract: "Create and list the provisioning API's keys.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key for a partner or a shop and print it (shown once).",
            discussion: """
                Give --partner or --tenant and the key's --name. Without --scope the key gets every scope its kind of \
                owner can hold (partner: tenants:read tenants:write domains:write branding:write users:write; shop: \
                articles:read articles:write bot:read bot:write conversations:read conversations:write). \
                Only the key is printed on standard output, so `KEY=$(vitrina api-keys create …)` works.
                """)
        @OptionGroup var options: GlobalOptions
        @Option(help: "A partner's slug.") var partner: String?
        @Option(help: "A shop's slug.") var tenant: String?
        @Option(help: "The key's name, as the panel lists it.") var name: String
        @Option(help: "A scope the key holds (repeat it for several).") var scope: [String] = []
        @Option(
            name: .customLong("acting-as"),
            help: "A shop key's person: the member whose name its inbox replies and assignments carry (conversations:write needs one).")
        var actingAs: String?

        func run() async throws {
            try await Runtime.run {
                guard (partner == nil) != (tenant == nil) else { throw CLIError.usage("Give exactly one of --partner or --tenant.") }
                let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty, trimmed.count <= 100 else { throw CLIError.usage("--name must be 1 to 100 characters.") }
                let token = try await Runtime.withServices(options) { services in
                    _ = try await services.migrator.migrate()
                    try await services.directory.reload()
                    let owner: APIKeyOwner
                    let audit: AuditEntry
                    if let partner {
                        guard let record = services.directory.snapshot.partnersBySlug[partner] else {
                            throw CLIError.usage("There is no partner '\(partner)'.")
                        }
                        owner = .partner(record.id)
                        audit = AuditEntry(
                            actorID: nil, actorEmail: "cli", partnerID: record.id, action: "api_key.created", target: trimmed, address: nil)
                    } else {
                        guard let record = try await services.directory.tenant(slug: tenant ?? "") else {
                            throw CLIError.usage("There is no shop '\(tenant ?? "")'.")
                        }
                        owner = .tenant(record.id)
                        audit = AuditEntry(
                            actorID: nil, actorEmail: "cli", partnerID: record.partnerID, tenantID: record.id, action: "api_key.created",
                            target: trimmed, address: nil)
                    }
                    let scopes = try Self.scopes(scope, owner: owner)
                    var person: UUID?
                    if let actingAs {
                        guard let user = try await services.users.find(email: EmailAddress.normalize(actingAs)) else {
                            throw CLIError.usage("There is no account '\(actingAs)'.")
                        }
                        person = user.id
                    }
                    return try await services.apiKeys.create(owner: owner, name: trimmed, scopes: scopes, createdBy: person, audit: audit)
                        .token
                }
                say(token)
            }
        }

        static func scopes(_ names: [String], owner: APIKeyOwner) throws -> [APIScope] {
            let available = APIScope.available(for: owner)
            guard !names.isEmpty else { return available }
            return try names.map { name in
                guard let scope = APIScope(rawValue: name), available.contains(scope) else {
                    throw CLIError.usage(
                        "'\(name)' is not a scope of this kind of key; choose from: \(available.map(\.rawValue).joined(separator: " ")).")
                }
                return scope
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a partner's or a shop's keys (never their secrets).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "A partner's slug.") var partner: String?
        @Option(help: "A shop's slug.") var tenant: String?

        func run() async throws {
            try await Runtime.run {
                guard (partner == nil) != (tenant == nil) else { throw CLIError.usage("Give exactly one of --partner or --tenant.") }
                let keys = try await Runtime.withServices(options) { services in
                    try await services.directory.reload()
                    if let partner {
                        guard let record = services.directory.snapshot.partnersBySlug[partner] else {
                            throw CLIError.usage("There is no partner '\(partner)'.")
                        }
                        return try await services.apiKeys.list(owner: .partner(record.id))
                    }
                    guard let record = try await services.directory.tenant(slug: tenant ?? "") else {
                        throw CLIError.usage("There is no shop '\(tenant ?? "")'.")
                    }
                    return try await services.apiKeys.list(owner: .tenant(record.id))
                }
                for key in keys {
                    let state = key.revokedAt == nil ? "live" : "revoked"
                    say("\(key.prefix)  \(key.name)  \(state)  \(key.scopes.joined(separator: " "))")
                }
                if keys.isEmpty { say("No keys.") }
            }
        }
    }
}

import App
import ArgumentParser
import Foundation

/// `vitrina api-keys …`: the provisioning API's keys, for an operator scripting an installation (the panels' **API keys**
/// pages do the same for people).
struct APIKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-keys", abstract: "Create and list the provisioning API's keys.", subcommands: [Create.self, List.self])

    /// The owner `--partner` or `--tenant` names (exactly one is given), and the shop's record for a tenant.
    static func owner(
        partner: String?, tenant: String?, _ services: AppServices
    ) async throws -> (owner: APIKeyOwner, tenant: TenantRecord?) {
        try await services.directory.reload()
        if let partner {
            guard let record = services.directory.snapshot.partnersBySlug[partner] else {
                throw CLIError.usage("There is no partner '\(partner)'.")
            }
            return (.partner(record.id), nil)
        }
        guard let record = try await services.directory.tenant(slug: tenant ?? "") else {
            throw CLIError.usage("There is no shop '\(tenant ?? "")'.")
        }
        return (.tenant(record.id), record)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key for a partner or a shop and print it (shown once).",
            discussion: """
                Give --partner or --tenant and the key's --name. Without --scope the key gets every scope its kind of \
                owner can hold (partner: tenants:read tenants:write domains:write branding:write users:write; shop: \
                articles:read articles:write bot:read bot:write conversations:read, and conversations:write with \
                --acting-as, a member of the shop whose name its replies and assignments carry). \
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
                guard !trimmed.isEmpty, trimmed.unicodeScalars.count <= 100,
                    !trimmed.unicodeScalars.contains(where: \.isASCIIControl)
                else {
                    throw CLIError.usage("--name must be 1 to 100 characters, without control characters.")
                }
                if partner != nil, actingAs != nil { throw CLIError.usage("--acting-as is for a shop's key (--tenant).") }
                let token = try await Runtime.withServices(options) { services in
                    _ = try await services.migrator.migrate()
                    let (owner, record) = try await APIKeysCommand.owner(partner: partner, tenant: tenant, services)
                    // A deleted shop's keys never authenticate: making one would print a key that cannot work.
                    if let record, record.status == .deleted {
                        throw CLIError.usage("The shop '\(record.slug)' is deleted: resume it first.")
                    }
                    var partnerID = record?.partnerID
                    if case .partner(let id) = owner { partnerID = id }
                    var audit = AuditEntry(
                        actorID: nil, actorEmail: "cli", partnerID: partnerID, tenantID: record?.id,
                        action: "api_key.created", target: trimmed, address: nil)
                    var person: UUID?
                    if let actingAs, case .tenant(let tenantID) = owner {
                        let email = EmailAddress.normalize(actingAs)
                        guard let member = try await services.users.team(tenantID: tenantID).first(where: { $0.email == email }) else {
                            throw CLIError.usage("'\(actingAs)' is not on the shop's team.")
                        }
                        person = member.userID
                        audit.details["acting_as"] = email
                    }
                    let scopes = try Self.scopes(scope, owner: owner, person: person != nil)
                    return try await services.apiKeys.create(owner: owner, name: trimmed, scopes: scopes, createdBy: person, audit: audit)
                        .token
                }
                say(token)
            }
        }

        /// The scopes asked for, or all the owner's kind may hold; `conversations:write` only with a person to act as.
        static func scopes(_ names: [String], owner: APIKeyOwner, person: Bool) throws -> [APIScope] {
            let available = APIScope.available(for: owner)
            guard !names.isEmpty else { return available.filter { person || $0 != .conversationsWrite } }
            return try names.map { name in
                guard let scope = APIScope(rawValue: name), available.contains(scope) else {
                    throw CLIError.usage(
                        "'\(name)' is not a scope of this kind of key; choose from: \(available.map(\.rawValue).joined(separator: " ")).")
                }
                if scope == .conversationsWrite, !person {
                    throw CLIError.usage("conversations:write needs --acting-as: the member whose name the key's replies carry.")
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
                    try await services.apiKeys.list(owner: APIKeysCommand.owner(partner: partner, tenant: tenant, services).owner)
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

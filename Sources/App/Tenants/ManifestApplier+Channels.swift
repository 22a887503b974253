import Foundation
import PostgresNIO

/// `bot: {channels:}`: the shop's first bot's messengers, saved in the manifest's transaction without calling the
/// providers (`ChannelConnector.schedule` queues each set-up as a `channel.connect` job). Secrets come from the
/// environment variables the file names; one that is not set refuses the whole file.
extension ManifestApplier {
    /// Every channel secret resolved before anything is written, by variable name.
    func channelSecrets(_ manifest: Manifest) throws -> [String: String] {
        var values: [String: String] = [:]
        var issues: [ManifestIssue] = []
        for tenant in manifest.tenants {
            for spec in tenant.bot.channels ?? [] {
                for (key, name, holds) in spec.variables {
                    guard let value = environment[name], !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                        issues.append(
                            ManifestIssue(
                                file: file, line: nil, path: spec.path + "." + key,
                                message: "tenant \(tenant.slug): the environment variable \(name) is not set (it holds \(holds))"))
                        continue
                    }
                    values[name] = value.trimmingCharacters(in: .whitespacesAndNewlines)
                }
            }
        }
        guard issues.isEmpty else { throw ManifestError(issues: issues) }
        return values
    }

    /// Saves the tenant's channels that differ from what is stored and queues their set-up.
    func applyChannels(
        _ spec: TenantSpec, secrets values: [String: String], on connection: Transaction, into changes: inout [ManifestChange]
    ) async throws {
        guard let channels = spec.bot.channels, !channels.isEmpty else { return }
        guard let connector, let jobs else {
            throw ManifestError(issues: [ManifestIssue(file: file, line: nil, path: spec.path, message: "channels cannot be applied here")])
        }
        guard
            let (id, schema) = try await connection.value(
                (UUID, String).self, "SELECT id, schema_name FROM platform.tenants WHERE slug = \(spec.slug) AND status <> 'purged'"),
            let schemaName = SchemaName(schema)
        else { throw TenancyError.unknownTenant(spec.slug) }
        // `schedule` needs the shop's id only: the shop may be new in this transaction, not yet in the directory.
        let tenant = TenantRecord(
            id: id, slug: spec.slug, name: spec.name, status: spec.status, schema: schemaName, partnerID: nil, branding: spec.branding,
            resolvedBranding: spec.branding, domains: spec.domains)
        let (file, store) = (file, connector.store)
        let found = try await TenantDatabase.scoped(connection, tenant.scope) { tenantConnection -> [ManifestChange] in
            guard let bot = try await BotStore.find(id: nil, on: tenantConnection) else { return [] }
            var changes: [ManifestChange] = []
            for channel in channels {
                let request = ChannelConnector.Request(
                    kind: channel.kind, token: channel.tokenEnv.flatMap { values[$0] },
                    appSecret: channel.appSecretEnv.flatMap { values[$0] }, phoneNumberID: channel.phoneNumberID, skillID: channel.skillID,
                    dropPendingUpdates: channel.dropPendingUpdates, handoffContact: channel.handoffContact ?? "",
                    templates: channel.kind == .whatsapp ? channel.templates ?? [] : nil)
                let before = try await store.find(botID: bot.id, kind: channel.kind, on: tenantConnection)
                let after: ChannelConnection
                do {
                    after = try await connector.schedule(request, botID: bot.id, jobs: jobs, tenant: tenant, on: tenantConnection)
                } catch let refused as ChannelConnectionError {
                    throw ManifestError(
                        issues: [ManifestIssue(file: file, line: nil, path: channel.path, message: "tenant \(spec.slug): \(refused)")])
                }
                guard after != before else { continue }
                let queued = after.status == .pending ? " (set up in the background)" : ""
                changes.append(
                    .init(
                        kind: before == nil ? .create : .update, text: "channel \(spec.slug)/\(bot.slug): \(channel.kind.rawValue)\(queued)"
                    ))
            }
            return changes
        }
        changes += found
    }
}

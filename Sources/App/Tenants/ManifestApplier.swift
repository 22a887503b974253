import Foundation
import PostgresNIO

/// One change a manifest makes.
public struct ManifestChange: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case create = "+", update = "~", remove = "-" }
    public var kind: Kind
    public var text: String
    public var description: String { "\(kind.rawValue) \(text)" }
}

/// Brings the database in line with a manifest, in one transaction: all of it or none of it.
///
/// Partners and tenants in the file are created or updated; nothing absent from the file is deleted unless
/// `prune` is set (then extra domains and help articles of the listed tenants and partners go). A dry run does the
/// same work and rolls it back, so its plan includes what only the database can tell (a domain someone else holds).
public struct ManifestApplier: Sendable {
    let database: Database
    let provisioner: TenantProvisioner
    let users: UserStore
    let plans: PlanStore
    let articles: HelpArticleStore
    let branding: BrandingStore
    let file: String
    /// Where `password_env` names are looked up.
    let environment: [String: String]
    let hasher: PasswordHasher
    /// Seals the models' keys (nil: the file's `llm:` keys cannot be stored).
    let secrets: SecretBox?
    /// Saves the bots' messengers and queues their set-up (nil: the file's `channels:` cannot be applied).
    let connector: ChannelConnector?
    let jobs: JobQueue?

    public init(
        database: Database, provisioner: TenantProvisioner, users: UserStore, plans: PlanStore, articles: HelpArticleStore,
        branding: BrandingStore, file: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        hasher: PasswordHasher = PasswordHasher(), secrets: SecretBox? = nil, channels: ChannelConnector? = nil, jobs: JobQueue? = nil
    ) {
        self.secrets = secrets
        self.connector = channels
        self.jobs = jobs
        self.database = database
        self.provisioner = provisioner
        self.users = users
        self.plans = plans
        self.articles = articles
        self.branding = branding
        self.file = file
        self.environment = environment
        self.hasher = hasher
    }

    private struct DryRun: Error {
        let changes: [ManifestChange]
    }

    /// Applies (or, with `dryRun`, plans) the manifest; returns the changes.
    public func apply(_ manifest: Manifest, dryRun: Bool, prune: Bool = false) async throws -> [ManifestChange] {
        let passwords = try passwords(manifest)
        let modelKeys = try modelKeys(manifest)
        let channelSecrets = try channelSecrets(manifest)
        do {
            return try await database.transaction { connection in
                var changes: [ManifestChange] = []
                if let platform = manifest.platform {
                    try await applyPlatform(platform, on: connection, into: &changes)
                }
                for partner in manifest.partners {
                    try await at(partner.path) { try await applyPartner(partner, prune: prune, on: connection, into: &changes) }
                    if let llm = partner.llm, try await applyPartnerModel(llm, partner: partner.slug, keys: modelKeys, on: connection) {
                        changes.append(.init(kind: .update, text: "partner \(partner.slug): language model"))
                    }
                    if let admins = partner.admins {
                        try await applyAdmins(
                            admins, owner: "partner \(partner.slug)", scope: .partner(slug: partner.slug), passwords: passwords,
                            prune: prune,
                            on: connection, into: &changes)
                    }
                }
                for tenant in manifest.tenants {
                    try await at(tenant.path) {
                        try await applyTenant(tenant, prune: prune, modelKeys: modelKeys, on: connection, into: &changes)
                        try await applyChannels(tenant, secrets: channelSecrets, on: connection, into: &changes)
                    }
                    if let admins = tenant.admins {
                        try await applyAdmins(
                            admins, owner: "tenant \(tenant.slug)", scope: .tenant(slug: tenant.slug), passwords: passwords, prune: prune,
                            on: connection, into: &changes)
                    }
                }
                if let admins = manifest.admins {
                    try await applyAdmins(
                        admins, owner: "the platform", scope: .platform, passwords: passwords, prune: prune, on: connection, into: &changes)
                }
                if dryRun { throw DryRun(changes: changes) }
                return changes
            }
        } catch let dry as DryRun {
            return dry.changes
        }
    }

    /// Reports a tenancy error against the manifest path it came from.
    private func at(_ path: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as TenancyError {
            throw ManifestError(issues: [ManifestIssue(file: file, line: nil, path: path, message: error.description)])
        }
    }

    /// The operator's own brand, replaced by the file's when they differ.
    private func applyPlatform(_ spec: PlatformSpec, on connection: Transaction, into changes: inout [ManifestChange]) async throws {
        guard try await branding.stored(.platform) != spec.branding else { return }
        try await branding.store(spec.branding, .platform, on: connection)
        changes.append(.init(kind: .update, text: "platform: branding"))
    }

    private func applyPartner(
        _ spec: PartnerSpec, prune: Bool, on connection: Transaction, into changes: inout [ManifestChange]
    ) async throws {
        let id: UUID
        if let (existingID, name, brandingJSON) = try await connection.value(
            (UUID, String, String).self, "SELECT id, name, branding::text FROM platform.partners WHERE slug = \(spec.slug) FOR UPDATE")
        {
            id = existingID
            var fields: [String] = []
            if name != spec.name { fields.append("name") }
            if Branding.fromJSON(brandingJSON) != spec.branding { fields.append("branding") }
            if !fields.isEmpty {
                try await connection.execute(
                    """
                    UPDATE platform.partners SET name = \(spec.name), branding = \(spec.branding.json)::jsonb, updated_at = now()
                    WHERE id = \(id)
                    """)
                changes.append(.init(kind: .update, text: "partner \(spec.slug): \(fields.joined(separator: ", "))"))
            }
        } else {
            id = UUID()
            try await connection.execute(
                "INSERT INTO platform.partners (id, slug, name, branding) VALUES (\(id), \(spec.slug), \(spec.name), \(spec.branding.json)::jsonb)"
            )
            changes.append(.init(kind: .create, text: "partner \(spec.slug) (\(spec.name))"))
        }
        try await syncDomains(
            spec.domains, owner: "partner \(spec.slug)", tenantID: nil, partnerID: id, prune: prune, on: connection, into: &changes)
        for plan in spec.plans ?? [] where try await plans.upsert(plan, partnerID: id, on: connection) {
            changes.append(.init(kind: .update, text: "plan \(spec.slug)/\(plan.slug) (\(plan.name))"))
        }
    }

    private func applyTenant(
        _ spec: TenantSpec, prune: Bool, modelKeys: [String: String], on connection: Transaction, into changes: inout [ManifestChange]
    ) async throws {
        let existing = try await connection.value(
            (UUID, String, String, String, String?, String).self,
            """
            SELECT t.id, t.schema_name, t.name, t.status, p.slug, t.branding::text
            FROM platform.tenants t LEFT JOIN platform.partners p ON p.id = t.partner_id
            WHERE t.slug = \(spec.slug) AND t.status <> 'purged' FOR UPDATE OF t
            """)
        let scope: TenantScope
        let isNewTenant = existing == nil
        if let (id, schema, name, statusText, partner, brandingJSON) = existing {
            guard let schemaName = SchemaName(schema) else { throw TenancyError.unknownTenant(spec.slug) }
            scope = TenantScope(id: id, schema: schemaName)
            var fields: [String] = []
            if name != spec.name { fields.append("name") }
            if partner != spec.partner { fields.append("partner") }
            if Branding.fromJSON(brandingJSON) != spec.branding { fields.append("branding") }
            if !fields.isEmpty {
                let partnerID = try await provisioner.partnerID(spec.partner, on: connection)
                try await connection.execute(
                    """
                    UPDATE platform.tenants SET name = \(spec.name), partner_id = \(partnerID),
                        branding = \(spec.branding.json)::jsonb, updated_at = now() WHERE id = \(id)
                    """)
                changes.append(.init(kind: .update, text: "tenant \(spec.slug): \(fields.joined(separator: ", "))"))
            }
            if statusText != spec.status.rawValue {
                try await connection.execute(
                    """
                    UPDATE platform.tenants SET status = \(spec.status.rawValue), updated_at = now(), deleted_at = NULL,
                        suspended_at = CASE WHEN \(spec.status.rawValue) = 'suspended' THEN now() END
                    WHERE id = \(id)
                    """)
                changes.append(.init(kind: .update, text: "tenant \(spec.slug): status \(statusText) → \(spec.status.rawValue)"))
            }
            try await syncDomains(
                spec.domains, owner: "tenant \(spec.slug)", tenantID: id, partnerID: nil, prune: prune, on: connection, into: &changes)
        } else {
            scope = try await provisioner.provision(
                NewTenant(
                    slug: spec.slug, name: spec.name, partnerSlug: spec.partner, status: spec.status, domains: spec.domains,
                    branding: spec.branding),
                on: connection)
            let domains = spec.domains.isEmpty ? "" : ", domains \(spec.domains.joined(separator: ", "))"
            changes.append(.init(kind: .create, text: "tenant \(spec.slug) (\(spec.name))\(domains)"))
        }
        if let plan = spec.plan {
            guard
                let changed = try await connection.value(
                    Bool.self,
                    """
                    UPDATE platform.tenants t SET plan_id = p.id, updated_at = now()
                    FROM platform.plans p
                    WHERE t.id = \(scope.id) AND p.partner_id IS NOT DISTINCT FROM t.partner_id AND p.slug = \(plan)
                    RETURNING (SELECT plan_id IS DISTINCT FROM p.id FROM platform.tenants WHERE id = \(scope.id))
                    """)
            else { throw TenancyError.unknownPlan(tenant: spec.slug, plan: plan) }
            if changed, !isNewTenant { changes.append(.init(kind: .update, text: "tenant \(spec.slug): plan \(plan)")) }
        }
        if let cap = spec.llmTokenCap,
            try await connection.value(
                Bool.self,
                """
                UPDATE platform.tenants SET llm_token_cap = \(cap), updated_at = now()
                WHERE id = \(scope.id) AND llm_token_cap IS DISTINCT FROM \(cap)::int8 RETURNING true
                """) == true, !isNewTenant
        {
            changes.append(.init(kind: .update, text: "tenant \(spec.slug): llm_token_cap \(cap.map(String.init) ?? "none")"))
        }
        try await applyBot(
            spec.bot, tenant: spec.slug, scope: scope, isNewTenant: isNewTenant, prune: prune, modelKeys: modelKeys, on: connection,
            into: &changes)
        guard let list = spec.helpArticles else { return }
        // The whole file is one transaction, and a new tenant is not in the directory yet: the door's scoped form.
        let articleChanges = try await TenantDatabase.scoped(connection, scope) { tenant -> (created: Int, changes: [ManifestChange]) in
            var created = 0
            var changes: [ManifestChange] = []
            for article in list {
                let outcome = try await articles.upsert(article, on: tenant)
                if outcome == .unchanged { continue }
                if isNewTenant {
                    created += 1
                } else {
                    changes.append(.init(kind: outcome == .created ? .create : .update, text: "article \(spec.slug)/\(article.slug)"))
                }
            }
            if prune {
                for slug in try await articles.deleteAll(except: list.map(\.slug), on: tenant) {
                    changes.append(.init(kind: .remove, text: "article \(spec.slug)/\(slug)"))
                }
            }
            return (created, changes)
        }
        if isNewTenant, articleChanges.created > 0, let index = changes.indices.last {
            changes[index].text += articleChanges.created == 1 ? ", 1 help article" : ", \(articleChanges.created) help articles"
        }
        changes += articleChanges.changes
    }

    private func syncDomains(
        _ wanted: [String], owner: String, tenantID: UUID?, partnerID: UUID?, prune: Bool, on connection: Transaction,
        into changes: inout [ManifestChange]
    ) async throws {
        let current = Set(
            try await connection.values(
                String.self, "SELECT host FROM platform.domains WHERE tenant_id = \(tenantID) OR partner_id = \(partnerID)"))
        for host in wanted where !current.contains(host) {
            try await provisioner.addDomain(host, tenantID: tenantID, partnerID: partnerID, on: connection)
            changes.append(.init(kind: .create, text: "domain \(host) → \(owner)"))
        }
        // A declared domain the owner had added in the panel and not verified yet: the operator vouches for it.
        let vouched = try await connection.values(
            String.self,
            """
            UPDATE platform.domains SET verified_at = now(), verified_by = 'operator'
            WHERE host = ANY(\(wanted)) AND verified_at IS NULL AND (tenant_id = \(tenantID) OR partner_id = \(partnerID))
            RETURNING host
            """)
        for host in vouched { changes.append(.init(kind: .update, text: "domain \(host) verified")) }
        if prune {
            // Only what the operator declared: domains shops and agencies added themselves are theirs to remove.
            let declared = Set(
                try await connection.values(
                    String.self,
                    """
                    SELECT host FROM platform.domains
                    WHERE (tenant_id = \(tenantID) OR partner_id = \(partnerID)) AND verified_by = 'operator'
                    """))
            for host in declared.subtracting(wanted).sorted() {
                try await connection.execute("DELETE FROM platform.domains WHERE host = \(host)")
                changes.append(.init(kind: .remove, text: "domain \(host) from \(owner)"))
            }
        }
    }
}

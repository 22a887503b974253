import Foundation
import PostgresNIO

/// A tenant to create.
public struct NewTenant: Sendable {
    public var slug: String
    public var name: String
    public var partnerSlug: String?
    public var status: TenantStatus = .active
    public var domains: [String] = []
    public var branding = Branding()

    public init(
        slug: String, name: String, partnerSlug: String? = nil, status: TenantStatus = .active, domains: [String] = [],
        branding: Branding = Branding()
    ) {
        self.slug = slug
        self.name = name
        self.partnerSlug = partnerSlug
        self.status = status
        self.domains = domains
        self.branding = branding
    }
}

/// Creates tenants (directory rows, schema, every tenant migration, seed data and domains in one transaction) and
/// moves them through their lifecycle.
public struct TenantProvisioner: Sendable {
    let database: Database
    let migrator: Migrator
    let baseDomain: String

    public init(database: Database, migrator: Migrator, baseDomain: String) {
        self.database = database
        self.migrator = migrator
        self.baseDomain = baseDomain
    }

    /// Creates a tenant in its own transaction.
    @discardableResult
    public func provision(_ tenant: NewTenant) async throws -> TenantScope {
        try await database.transaction { transaction in
            try await provision(tenant, on: transaction)
        }
    }

    /// Creates a tenant inside the caller's transaction (manifest apply, import).
    public func provision(_ tenant: NewTenant, on transaction: Transaction) async throws -> TenantScope {
        guard Slug.isValid(tenant.slug) else { throw TenancyError.invalidSlug(tenant.slug) }
        guard !Slug.reserved.contains(tenant.slug) else { throw TenancyError.reservedSlug(tenant.slug) }
        let partnerID = try await partnerID(tenant.partnerSlug, on: transaction)
        let scope = TenantScope(id: UUID(), schema: SchemaName.generate())
        do {
            try await transaction.execute(
                """
                INSERT INTO platform.tenants (id, slug, name, partner_id, status, schema_name, schema_version, branding,
                    suspended_at)
                VALUES (\(scope.id), \(tenant.slug), \(tenant.name), \(partnerID), \(tenant.status.rawValue),
                    \(scope.schema.value), \(migrator.latestTenantVersion), \(tenant.branding.json)::jsonb,
                    CASE WHEN \(tenant.status.rawValue) = 'suspended' THEN now() END)
                """)
        } catch  where databaseErrorCode(error) == "23505" {
            throw TenancyError.slugTaken(tenant.slug)
        }
        let subdomain = tenant.slug + "." + baseDomain
        let clash = try await transaction.rows("SELECT 1 FROM platform.domains WHERE host = \(subdomain)")
        guard clash.isEmpty else { throw TenancyError.domainTaken(subdomain) }
        for domain in tenant.domains {
            try await addDomain(domain, tenantID: scope.id, on: transaction)
        }
        try await transaction.execute(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(scope.schema.value)"))
        try await TenantDatabase.scoped(transaction, scope) { tenant in
            try await migrator.applyTenantFiles(on: tenant, after: 0)
            try await tenant.execute("INSERT INTO settings DEFAULT VALUES")
        }
        return scope
    }

    func partnerID(_ slug: String?, on runner: any QueryRunner) async throws -> UUID? {
        guard let slug else { return nil }
        guard let id = try await runner.value(UUID.self, "SELECT id FROM platform.partners WHERE slug = \(slug)") else {
            throw TenancyError.unknownPartner(slug)
        }
        return id
    }

    /// Checks a domain against the platform's own hosts and the tenants' `<slug>.<base>` names.
    public func checkDomain(_ raw: String) throws -> String {
        guard let host = HostName.normalize(raw), host.contains(".") else {
            throw TenancyError.invalidDomain(raw)
        }
        guard host != baseDomain, host != "admin." + baseDomain else { throw TenancyError.domainReserved(host) }
        return host
    }

    /// Adds a domain to a tenant or partner; refuses hosts taken by anyone, including a tenant's own subdomain. A
    /// domain from the operator (tenants.yml) is trusted as given; one added through the API starts unverified, with a
    /// verification token, and routes only once verified. Returns the host as stored.
    @discardableResult
    public func addDomain(
        _ raw: String, tenantID: UUID? = nil, partnerID: UUID? = nil, on runner: any QueryRunner
    ) async throws -> String {
        let host = try checkDomain(raw)
        if host.hasSuffix("." + baseDomain) {
            let label = String(host.dropLast(baseDomain.count + 1))
            let owner = try await runner.value(UUID.self, "SELECT id FROM platform.tenants WHERE slug = \(label) AND status <> 'purged'")
            if let owner, owner != tenantID || tenantID == nil { throw TenancyError.domainReserved(host) }
        }
        do {
            try await runner.execute(
                """
                INSERT INTO platform.domains (host, tenant_id, partner_id, verified_at, verified_by)
                VALUES (\(host), \(tenantID), \(partnerID), now(), 'operator')
                """)
        } catch  where databaseErrorCode(error) == "23505" {
            throw TenancyError.domainTaken(host)
        }
        return host
    }

    /// Looks a tenant up by slug (excluding purged ones).
    public func find(_ slug: String, on runner: any QueryRunner) async throws -> (scope: TenantScope, status: TenantStatus) {
        guard
            let (id, schema, status) = try await runner.value(
                (UUID, String, String).self,
                "SELECT id, schema_name, status FROM platform.tenants WHERE slug = \(slug) AND status <> 'purged'"),
            let schemaName = SchemaName(schema), let status = TenantStatus(rawValue: status)
        else { throw TenancyError.unknownTenant(slug) }
        return (TenantScope(id: id, schema: schemaName), status)
    }

    /// Lifecycle actions an operator can take.
    public enum Action: String, Sendable {
        case suspend, resume, delete

        var target: TenantStatus {
            switch self {
            case .suspend: .suspended
            case .resume: .active
            case .delete: .deleted
            }
        }
        var pastTense: String {
            switch self {
            case .suspend: "suspended"
            case .resume: "resumed"
            case .delete: "deleted"
            }
        }
    }

    /// Applies a lifecycle action; returns `false` when the tenant was already in the target state.
    @discardableResult
    public func perform(_ action: Action, slug: String) async throws -> Bool {
        try await database.transaction { transaction in
            let (scope, status) = try await find(slug, on: transaction)
            if status == action.target { return false }
            switch (action, status) {
            case (.suspend, .active), (.resume, .suspended), (.resume, .deleted), (.delete, .active), (.delete, .suspended):
                break
            default:
                throw TenancyError.invalidTransition(slug: slug, from: status, action: action.pastTense)
            }
            try await transaction.execute(
                """
                UPDATE platform.tenants SET status = \(action.target.rawValue), updated_at = now(),
                    suspended_at = CASE WHEN \(action.target.rawValue) = 'suspended' THEN now() END,
                    deleted_at = CASE WHEN \(action.target.rawValue) = 'deleted' THEN now() END
                WHERE id = \(scope.id)
                """)
            return true
        }
    }

    /// Drops the tenant's schema and domains for good; the directory row stays as a tombstone.
    public func purge(slug: String) async throws {
        try await database.transaction { transaction in
            let (scope, _) = try await find(slug, on: transaction)
            try await transaction.execute(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(scope.schema.value) CASCADE"))
            try await transaction.execute("DELETE FROM platform.domains WHERE tenant_id = \(scope.id)")
            try await transaction.execute(
                """
                UPDATE platform.tenants SET status = 'purged', schema_name = NULL, purged_at = now(), updated_at = now()
                WHERE id = \(scope.id)
                """)
        }
    }
}

extension TenantProvisioner {
    /// A live (not purged) tenant's id by slug.
    public func lookup(slug: String) async throws -> UUID? {
        try await database.value(UUID.self, "SELECT id FROM platform.tenants WHERE slug = \(slug) AND status <> 'purged'")
    }
}

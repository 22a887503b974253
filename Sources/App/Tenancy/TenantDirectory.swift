import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Every host Vitrina answers on, in memory: resolving a request costs a dictionary look-up, no database round trip.
public struct DirectorySnapshot: Sendable {
    public let baseDomain: String
    public let hosts: [String: Site]
    public let tenantsBySlug: [String: TenantRecord]
    public let partnersBySlug: [String: PartnerRecord]
    /// Hosts that redirect to their site's primary domain.
    public let redirects: [String: String]
    /// `false` until the first load from the database.
    public let isLoaded: Bool

    public init(baseDomain: String, partners: [PartnerRecord], tenants: [TenantRecord], isLoaded: Bool = true) {
        self.baseDomain = baseDomain
        self.isLoaded = isLoaded
        var hosts: [String: Site] = [baseDomain: .platform, "admin." + baseDomain: .platform]
        var redirects: [String: String] = [:]
        var partnersByID: [UUID: PartnerRecord] = [:]
        var partnersBySlug: [String: PartnerRecord] = [:]
        for partner in partners {
            partnersByID[partner.id] = partner
            partnersBySlug[partner.slug] = partner
            for domain in partner.domains where hosts[domain] == nil {
                hosts[domain] = .partner(partner)
                if let primary = partner.primaryDomain, primary != domain { redirects[domain] = primary }
            }
        }
        var tenantsBySlug: [String: TenantRecord] = [:]
        for var tenant in tenants {
            let partnerBranding = tenant.partnerID.flatMap { partnersByID[$0] }?.resolvedBranding ?? .platformDefault
            tenant.partnerBranding = partnerBranding
            tenant.resolvedBranding = Branding.forTenant(tenant.branding, partner: partnerBranding, shopName: tenant.name)
            tenantsBySlug[tenant.slug] = tenant
            // Deleted tenants answer nowhere (404); suspended ones keep their hosts to show a branded 503.
            guard tenant.status == .active || tenant.status == .suspended else { continue }
            for host in [tenant.slug + "." + baseDomain] + tenant.domains where hosts[host] == nil {
                hosts[host] = .tenant(tenant)
                if let primary = tenant.primaryDomain, primary != host { redirects[host] = primary }
            }
        }
        self.hosts = hosts
        self.tenantsBySlug = tenantsBySlug
        self.partnersBySlug = partnersBySlug
        self.redirects = redirects
    }
}

extension DirectorySnapshot {
    /// A raw `Host` header's normalised host and its site. A header already in normal form (the common case) is
    /// found without normalising it.
    public func resolve(host rawHost: some StringProtocol) -> (host: String, site: Site)? {
        let text = String(rawHost)
        if let site = hosts[text] { return (text, site) }
        guard let host = HostName.normalize(rawHost), let site = hosts[host] else { return nil }
        return (host, site)
    }
}

/// The in-memory tenant directory, kept fresh by `DirectoryRefresher`.
public final class TenantDirectory: Sendable {
    private let snapshotBox: Mutex<DirectorySnapshot>
    /// Reloads can overlap (a NOTIFY and a handler's own reload): each takes a number when it starts, and only a
    /// reload newer than the one last applied may replace the snapshot, so an older read never wins the race.
    private let generations = Mutex<(started: Int, applied: Int)>((0, 0))
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, baseDomain: String, logger: Logger) {
        self.client = client
        self.logger = logger
        self.snapshotBox = Mutex(DirectorySnapshot(baseDomain: baseDomain, partners: [], tenants: [], isLoaded: false))
    }

    public var snapshot: DirectorySnapshot { snapshotBox.withLock { $0 } }

    /// Resolves a raw `Host` header (any case, with a port or a trailing dot).
    public func resolve(host rawHost: some StringProtocol) -> Site? { snapshot.resolve(host: rawHost)?.site }

    /// Reads partners, tenants and domains (three queries) and swaps the snapshot in.
    public func reload() async throws {
        let generation = generations.withLock {
            $0.started += 1
            return $0.started
        }
        var partnerDomains: [UUID: [String]] = [:]
        var tenantDomains: [UUID: [String]] = [:]
        var primaries: [UUID: String] = [:]
        let domainRows = try await client.query(
            // Only verified domains route (and only they get certificates: see `TLSAskController`).
            """
            SELECT host, tenant_id, partner_id, is_primary FROM platform.domains
            WHERE verified_at IS NOT NULL ORDER BY is_primary DESC, host
            """,
            logger: logger)
        for try await (host, tenantID, partnerID, isPrimary) in domainRows.decode((String, UUID?, UUID?, Bool).self) {
            if let tenantID { tenantDomains[tenantID, default: []].append(host) }
            if let partnerID { partnerDomains[partnerID, default: []].append(host) }
            if isPrimary, let owner = tenantID ?? partnerID { primaries[owner] = host }
        }
        var partners: [PartnerRecord] = []
        let partnerRows = try await client.query(
            "SELECT id, slug, name, branding::text FROM platform.partners", logger: logger)
        for try await (id, slug, name, branding) in partnerRows.decode((UUID, String, String, String).self) {
            partners.append(
                PartnerRecord(
                    id: id, slug: slug, name: name, branding: .fromJSON(branding), domains: partnerDomains[id] ?? [],
                    primaryDomain: primaries[id]))
        }
        var tenants: [TenantRecord] = []
        let tenantRows = try await client.query(
            """
            SELECT id, slug, name, status, schema_name, partner_id, branding::text
            FROM platform.tenants WHERE status <> 'purged'
            """, logger: logger)
        for try await (id, slug, name, status, schema, partnerID, branding) in tenantRows.decode(
            (UUID, String, String, String, String, UUID?, String).self)
        {
            guard let schemaName = SchemaName(schema), let status = TenantStatus(rawValue: status) else {
                logger.error("Skipping tenant \(slug): invalid schema name or status in the directory")
                continue
            }
            let branding = Branding.fromJSON(branding)
            tenants.append(
                TenantRecord(
                    id: id, slug: slug, name: name, status: status, schema: schemaName, partnerID: partnerID,
                    branding: branding, resolvedBranding: branding, domains: tenantDomains[id] ?? [], primaryDomain: primaries[id]))
        }
        let fresh = DirectorySnapshot(baseDomain: snapshot.baseDomain, partners: partners, tenants: tenants)
        generations.withLock { counters in
            guard generation > counters.applied else { return }
            counters.applied = generation
            snapshotBox.withLock { $0 = fresh }
        }
        logger.debug("Tenant directory loaded", metadata: ["tenants": "\(tenants.count)", "partners": "\(partners.count)"])
    }
}

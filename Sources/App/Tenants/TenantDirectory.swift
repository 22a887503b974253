import Foundation
import Logging
import Metrics
import PostgresNIO
import Synchronization

/// The in-memory tenant directory, kept fresh by `DirectoryRefresher`.
public final class TenantDirectory: Sendable {
    private let snapshotBox: Mutex<DirectorySnapshot>
    /// Reloads can overlap (a NOTIFY and a handler's own reload): each takes a number when it starts, and only a
    /// reload newer than the one last applied may replace the snapshot, so an older read never wins the race.
    private let generations = Mutex<(started: Int, applied: Int)>((0, 0))
    let database: Database
    let logger: Logger
    private let reloads = Counter(label: "vitrina_directory_reloads_total")
    private let reloadTime = Metrics.Timer(label: "vitrina_directory_reload_seconds", preferredDisplayUnit: .seconds)
    private let tenantCount = Gauge(label: "vitrina_directory_tenants")

    public init(database: Database, baseDomain: String, logger: Logger) {
        self.database = database
        self.logger = logger
        self.snapshotBox = Mutex(DirectorySnapshot(baseDomain: baseDomain, partners: [], tenants: [], isLoaded: false))
    }

    public var snapshot: DirectorySnapshot { snapshotBox.withLock { $0 } }

    /// Resolves a raw `Host` header (any case, with a port or a trailing dot).
    public func resolve(host rawHost: some StringProtocol) -> Site? { snapshot.resolve(host: rawHost)?.site }

    /// A tenant by id, as a job resolves its tenant again: from the snapshot, or after one reload when the snapshot
    /// does not know it yet (it was created a moment ago by another process).
    public func tenant(id: UUID) async throws -> TenantRecord? {
        if let tenant = snapshot.tenantsByID[id] { return tenant }
        try await reload()
        return snapshot.tenantsByID[id]
    }

    /// A tenant by slug, reloading once when the snapshot does not know it (the CLI, right after another command).
    public func tenant(slug: String) async throws -> TenantRecord? {
        if let tenant = snapshot.tenantsBySlug[slug] { return tenant }
        try await reload()
        return snapshot.tenantsBySlug[slug]
    }

    /// Reads the platform's brand, partners, tenants and domains (four queries) and swaps the snapshot in.
    public func reload() async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let generation = generations.withLock {
            $0.started += 1
            return $0.started
        }
        var partnerDomains: [UUID: [String]] = [:]
        var tenantDomains: [UUID: [String]] = [:]
        var primaries: [UUID: String] = [:]
        var pending: [DirectorySnapshot.PendingDomain] = []
        let domains = try await database.values(
            (String, UUID?, UUID?, Bool, Bool).self,
            // Only verified domains route (and only they get certificates: see `TLSAskController`); pending ones are
            // remembered so their 404 is in their owner's branding.
            """
            SELECT host, tenant_id, partner_id, is_primary, verified_at IS NOT NULL FROM platform.domains
            ORDER BY is_primary DESC, host
            """)
        for (host, tenantID, partnerID, isPrimary, verified) in domains {
            guard verified else {
                pending.append(.init(host: host, tenantID: tenantID, partnerID: partnerID))
                continue
            }
            if let tenantID { tenantDomains[tenantID, default: []].append(host) }
            if let partnerID { partnerDomains[partnerID, default: []].append(host) }
            if isPrimary, let owner = tenantID ?? partnerID { primaries[owner] = host }
        }
        let platformBranding = try await database.value(String.self, "SELECT branding::text FROM platform.settings")
        let partners = try await database.values(
            (UUID, String, String, String).self, "SELECT id, slug, name, branding::text FROM platform.partners"
        )
        .map { id, slug, name, branding in
            PartnerRecord(
                id: id, slug: slug, name: name, branding: .fromJSON(branding), domains: partnerDomains[id] ?? [],
                primaryDomain: primaries[id])
        }
        var tenants: [TenantRecord] = []
        let tenantRows = try await database.values(
            (UUID, String, String, String, String, UUID?, String).self,
            "SELECT id, slug, name, status, schema_name, partner_id, branding::text FROM platform.tenants WHERE status <> 'purged'")
        for (id, slug, name, status, schema, partnerID, branding) in tenantRows {
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
        let fresh = DirectorySnapshot(
            baseDomain: snapshot.baseDomain, platform: PlatformRecord(branding: platformBranding.map(Branding.fromJSON) ?? Branding()),
            partners: partners, tenants: tenants, pending: pending)
        generations.withLock { counters in
            guard generation > counters.applied else { return }
            counters.applied = generation
            snapshotBox.withLock { $0 = fresh }
        }
        reloads.increment()
        reloadTime.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        tenantCount.record(tenants.count)
        logger.debug("Tenant directory loaded", metadata: ["tenants": "\(tenants.count)", "partners": "\(partners.count)"])
    }
}

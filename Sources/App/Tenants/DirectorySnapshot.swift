import Foundation

/// Every host Vitrina answers on, in memory: resolving a request costs a dictionary look-up, no database round trip.
public struct DirectorySnapshot: Sendable {
    public let baseDomain: String
    public let platform: PlatformRecord
    public let hosts: [String: Site]
    public let tenantsBySlug: [String: TenantRecord]
    public let tenantsByID: [UUID: TenantRecord]
    public let partnersBySlug: [String: PartnerRecord]
    public let partnersByID: [UUID: PartnerRecord]
    /// Hosts that redirect to their site's primary domain.
    public let redirects: [String: String]
    /// Hosts that do not route but whose owner is known (a custom domain not verified yet, a deleted shop's
    /// addresses): their 404 page is in the owner's branding, never the platform's.
    public let unrouted: [String: Branding]
    /// `false` until the first load from the database.
    public let isLoaded: Bool

    /// A domain the directory knows but does not route, and whose it is.
    public struct PendingDomain: Sendable {
        public var host: String
        public var tenantID: UUID?
        public var partnerID: UUID?
    }

    public init(
        baseDomain: String, platform: PlatformRecord = PlatformRecord(), partners: [PartnerRecord], tenants: [TenantRecord],
        pending: [PendingDomain] = [], isLoaded: Bool = true
    ) {
        self.baseDomain = baseDomain
        self.platform = platform
        self.isLoaded = isLoaded
        var hosts: [String: Site] = [baseDomain: .platform(platform), "admin." + baseDomain: .platform(platform)]
        var redirects: [String: String] = [:]
        var partnersByID: [UUID: PartnerRecord] = [:]
        var partnersBySlug: [String: PartnerRecord] = [:]
        for var partner in partners {
            partner.resolvedBranding = Branding.forPartner(partner.branding, partnerName: partner.name, platform: platform.resolvedBranding)
            partnersByID[partner.id] = partner
            partnersBySlug[partner.slug] = partner
            for domain in partner.domains where hosts[domain] == nil {
                hosts[domain] = .partner(partner)
                if let primary = partner.primaryDomain, primary != domain { redirects[domain] = primary }
            }
        }
        var tenantsBySlug: [String: TenantRecord] = [:]
        var tenantsByID: [UUID: TenantRecord] = [:]
        var unrouted: [String: Branding] = [:]
        for var tenant in tenants {
            let partnerBranding = tenant.partnerID.flatMap { partnersByID[$0] }?.resolvedBranding ?? platform.resolvedBranding
            tenant.partnerBranding = partnerBranding
            tenant.resolvedBranding = Branding.forTenant(tenant.branding, partner: partnerBranding, shopName: tenant.name)
            tenantsBySlug[tenant.slug] = tenant
            tenantsByID[tenant.id] = tenant
            let addresses = [tenant.slug + "." + baseDomain] + tenant.domains
            // Deleted tenants answer nowhere (a 404 in their own branding); suspended ones keep their hosts to show
            // a branded 503.
            guard tenant.status == .active || tenant.status == .suspended else {
                for host in addresses where hosts[host] == nil { unrouted[host] = tenant.resolvedBranding }
                continue
            }
            for host in addresses where hosts[host] == nil {
                hosts[host] = .tenant(tenant)
                if let primary = tenant.primaryDomain, primary != host { redirects[host] = primary }
            }
        }
        for domain in pending where hosts[domain.host] == nil {
            if let id = domain.tenantID, let tenant = tenantsByID[id] {
                unrouted[domain.host] = tenant.resolvedBranding
            } else if let id = domain.partnerID, let partner = partnersByID[id] {
                unrouted[domain.host] = partner.resolvedBranding
            }
        }
        for host in hosts.keys { unrouted[host] = nil }
        self.hosts = hosts
        self.tenantsBySlug = tenantsBySlug
        self.tenantsByID = tenantsByID
        self.partnersBySlug = partnersBySlug
        self.partnersByID = partnersByID
        self.redirects = redirects
        self.unrouted = unrouted
    }

    /// A raw `Host` header's normalised host and its site. A header already in normal form (the common case) is
    /// found without normalising it.
    public func resolve(host rawHost: some StringProtocol) -> (host: String, site: Site)? {
        let text = String(rawHost)
        if let site = hosts[text] { return (text, site) }
        guard let host = HostName.normalize(rawHost), let site = hosts[host] else { return nil }
        return (host, site)
    }

    /// The host a tenant's panel opens on: its first custom domain, else `<slug>.<base domain>`.
    public func primaryHost(of tenant: TenantRecord) -> String {
        tenant.domains.first ?? tenant.slug + "." + baseDomain
    }
}

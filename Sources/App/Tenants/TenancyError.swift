/// Things an operator can get wrong when managing tenants; each maps to a plain sentence and exit code 2.
public enum TenancyError: Error, CustomStringConvertible, Equatable {
    case invalidSlug(String)
    case reservedSlug(String)
    case slugTaken(String)
    case unknownPartner(String)
    case unknownTenant(String)
    case invalidDomain(String)
    case domainTaken(String)
    case domainReserved(String)
    case invalidTransition(slug: String, from: TenantStatus, action: String)
    case invalidExport(String)
    case unknownPlan(tenant: String, plan: String)

    public var description: String {
        switch self {
        case .invalidSlug(let slug):
            "'\(slug)' is not a valid slug: use 2–40 lower-case letters, digits and single hyphens, starting with a letter."
        case .reservedSlug(let slug): "'\(slug)' is reserved for the platform; choose another slug."
        case .slugTaken(let slug): "A tenant with the slug '\(slug)' already exists."
        case .unknownPartner(let slug): "There is no partner '\(slug)'."
        case .unknownTenant(let slug): "There is no tenant '\(slug)'."
        case .invalidDomain(let domain): "'\(domain)' is not a valid domain name."
        case .domainTaken(let domain): "The domain \(domain) already belongs to another partner or tenant."
        case .domainReserved(let domain): "The domain \(domain) is the platform's own (or another tenant's subdomain)."
        case .invalidTransition(let slug, let from, let action): "Tenant '\(slug)' is \(from.rawValue): it cannot be \(action)."
        case .unknownPlan(let tenant, let plan): "Tenant '\(tenant)': its partner has no plan '\(plan)'."
        case .invalidExport(let message): "Not a Vitrina tenant export: \(message)"
        }
    }
}

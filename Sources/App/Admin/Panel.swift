import Foundation
import Hummingbird

/// A signed-in request on a panel, with what the user may do there.
public struct Panel: Sendable {
    public let site: Site
    public let user: SignedInUser
    public let access: Access
    public let host: String
    public let address: String?

    /// The tenant of a tenant's panel.
    public var tenant: TenantRecord? {
        if case .tenant(let tenant) = site { tenant } else { nil }
    }

    /// What the role allows here, less what the site's partner withholds (a shop's branding is its partner's to give).
    public func allows(_ permission: Permission) -> Bool {
        if permission == .editBranding, brandingLocked { return false }
        return access.allows(permission)
    }

    /// The shop's partner does not let its shops rebrand.
    var brandingLocked: Bool { tenant?.partnerBranding.allowTenantBranding == false }

    /// An audit entry by this user, in this panel's tenant or partner.
    func audit(_ action: String, target: String = "", details: [String: String] = [:]) -> AuditEntry {
        var partnerID: UUID?
        if case .partner(let partner) = site { partnerID = partner.id }
        var details = details
        var actor = user.user.email
        if let impersonator = user.impersonator {
            // A support sign-in is written down as what it is: the staff member, acting as the shop's person.
            actor = impersonator.email + " → " + user.user.email
            details["support"] = impersonator.reason
        }
        return AuditEntry(
            actorID: user.user.id, actorEmail: actor, partnerID: partnerID ?? tenant?.partnerID, tenantID: tenant?.id,
            action: action, target: target, details: details, address: address)
    }
}

extension Permission {
    /// The kinds of panel a permission means something on; elsewhere its routes answer 404.
    var siteKinds: Set<SiteKind> {
        switch self {
        case .viewDashboard, .viewArticles, .editArticles, .viewTeam, .manageTeam, .grantOwner: [.tenant]
        case .viewAudit: [.tenant, .partner, .platform]
        case .editBranding, .manageDomains, .manageAPIKeys: [.tenant, .partner]
        case .viewTenants, .openTenantPanel, .createTenant, .changeTenantStatus: [.partner, .platform]
        case .viewPartners, .viewOutbox: [.platform]
        }
    }
}

/// Which kind of site a host is.
public enum SiteKind: Sendable {
    case platform, partner, tenant
}

extension Site {
    var kind: SiteKind {
        switch self {
        case .platform: .platform
        case .partner: .partner
        case .tenant: .tenant
        }
    }
}

extension AppRequestContext {
    /// The panel, for a signed-in user allowed to do `permission` on this site. Otherwise: not signed in → the sign-in
    /// page; no role here or not allowed → 403; a permission that means nothing on this kind of site → 404.
    func panel(_ permission: Permission, request: Request) throws -> Panel {
        let panel = try signedIn(request: request)
        guard permission.siteKinds.contains(panel.site.kind) else { throw HTTPError(.notFound) }
        guard panel.allows(permission) else {
            let locked = permission == .editBranding && panel.brandingLocked && panel.access.allows(permission)
            throw RefusalError(.forbidden, messageKey: locked ? "brand_locked" : "error_not_allowed")
        }
        return panel
    }

    /// The panel for any signed-in user with a role on this site (profile, sign-out).
    func signedIn(request: Request) throws -> Panel {
        guard let site, let identity else {
            let next =
                request.uri.path == "/admin"
                ? "" : "?next=" + (request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            throw RedirectError(to: "/admin/login" + next)
        }
        let access = Access(roles: identity.roles, site: site)
        guard access.role != nil else { throw RefusalError(.forbidden, messageKey: "error_no_access") }
        return Panel(site: site, user: identity, access: access, host: host, address: clientAddress)
    }

    /// The panel's language: the user's choice, else the browser's, else the site's default.
    func language(request: Request) -> String {
        if let chosen = identity?.user.language { return chosen }
        if let browser = Localizer.language(fromAcceptLanguage: request.headers[.acceptLanguage]) { return browser }
        return site?.branding.defaultLanguage ?? Localizer.fallback
    }

    /// The scheme and host the browser used, for links in e-mails (the port kept for development). Built from the
    /// host the directory resolved, never from an unchecked header, so a forged Host cannot redirect a reset link.
    func origin(host other: String? = nil) -> String {
        (isSecure ? "https://" : "http://") + (other ?? host) + port
    }

    /// The port the browser addressed, with its colon (empty for the scheme's default).
    var port: String {
        guard let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), authority[colon...].count > 1 else { return "" }
        let digits = authority[authority.index(after: colon)...]
        guard digits.allSatisfy(\.isNumber), digits != "80", digits != "443" else { return "" }
        return ":" + digits
    }
}

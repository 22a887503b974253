import Foundation

/// A role held through a membership: on the platform, on a partner, or on a tenant.
public enum Role: String, Sendable, CaseIterable, Codable, Comparable {
    case platformAdmin = "platform_admin"
    case partnerOwner = "partner_owner"
    case partnerAdmin = "partner_admin"
    case owner, admin, `operator`, viewer

    /// The roles a tenant membership can hold, strongest first.
    public static let tenantRoles: [Role] = [.owner, .admin, .operator, .viewer]
    /// The roles a partner membership can hold.
    public static let partnerRoles: [Role] = [.partnerOwner, .partnerAdmin]

    /// Strength, for picking a user's effective role when several memberships apply (higher is stronger).
    var rank: Int {
        switch self {
        case .platformAdmin: 7
        case .partnerOwner: 6
        case .partnerAdmin: 5
        case .owner: 4
        case .admin: 3
        case .operator: 2
        case .viewer: 1
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// Key of the role's name in the interface text catalogues.
    public var textKey: String { "role_" + rawValue }
}

/// Something a signed-in user may try to do. Routes name the permission they need; `Permissions` decides.
public enum Permission: String, Sendable, CaseIterable {
    // A tenant's panel.
    case viewDashboard, viewArticles, editArticles, viewTeam, manageTeam, grantOwner, viewAudit
    // A tenant's bot: reading and trying it; its knowledge (FAQ, synonyms) and templates; its settings and rules.
    case viewBot, editBotKnowledge, editBot
    // A tenant's inbox: reading conversations; answering, assigning and resolving them; its settings and shoppers' data.
    case viewInbox, answerInbox, manageInbox
    // A tenant's panel (when its partner allows) and a partner's.
    case editBranding
    // A tenant's panel and a partner's: custom domains.
    case manageDomains
    // A tenant's panel and a partner's.
    case manageAPIKeys
    // A partner's or the platform's panel.
    case viewTenants, openTenantPanel, createTenant, changeTenantStatus
    // A partner's panel: the language model it gives its shops.
    case manageModel
    // The platform's panel only.
    case viewPartners, viewOutbox, manageJobs
}

/// The one place that says which role may do what. Tested as a matrix.
public enum Permissions {
    static let table: [Role: Set<Permission>] = {
        let viewer: Set<Permission> = [.viewDashboard, .viewArticles, .viewTeam, .viewBot, .viewInbox]
        let operatorRole = viewer.union([.editArticles, .editBotKnowledge, .answerInbox])
        let admin = operatorRole.union([
            .editBot, .manageTeam, .viewAudit, .editBranding, .manageDomains, .manageAPIKeys, .manageInbox,
        ])
        let owner = admin.union([.grantOwner])
        // An agency's staff manage all of their partner's tenants as their owners would.
        let partner = owner.union([.viewTenants, .openTenantPanel, .createTenant, .changeTenantStatus, .manageModel])
        return [
            .viewer: viewer, .operator: operatorRole, .admin: admin, .owner: owner,
            .partnerAdmin: partner, .partnerOwner: partner,
            .platformAdmin: Set(Permission.allCases),
        ]
    }()

    /// Whether `role` may do `permission` (`nil`, no role here, may do nothing).
    public static func allows(_ role: Role?, _ permission: Permission) -> Bool {
        guard let role else { return false }
        return table[role]?.contains(permission) ?? false
    }

    /// Which roles someone with `role` may give to (or take from) a tenant team member.
    public static func assignableRoles(by role: Role) -> [Role] {
        guard allows(role, .manageTeam) else { return [] }
        return allows(role, .grantOwner) ? Role.tenantRoles : Role.tenantRoles.filter { $0 != .owner }
    }
}

/// What a user may do on the site their request arrived on: their strongest applicable membership.
public struct Access: Sendable, Equatable {
    public let role: Role?

    /// The effective role among memberships that apply to a site (the caller selects them by site).
    public init(roles: [Role], site: Site) {
        let applicable = roles.filter { role in
            switch site {
            case .platform: role == .platformAdmin
            case .partner: role == .platformAdmin || Role.partnerRoles.contains(role)
            case .tenant(let tenant):
                role == .platformAdmin || Role.tenantRoles.contains(role)
                    || (tenant.partnerID != nil && Role.partnerRoles.contains(role))
            }
        }
        self.role = applicable.max()
    }

    public func allows(_ permission: Permission) -> Bool { Permissions.allows(role, permission) }
}

import Foundation
import Testing

@testable import App

@Suite("Roles and permissions")
struct PermissionsTests {
    /// The whole matrix, written out: role × permission → allowed. A change to `Permissions` must change this table.
    static let expected: [Role: Set<Permission>] = [
        .viewer: [.viewDashboard, .viewArticles, .viewTeam, .viewBot, .viewInbox],
        .operator: [.viewDashboard, .viewArticles, .viewTeam, .editArticles, .viewBot, .editBotKnowledge, .viewInbox, .answerInbox],
        .admin: [
            .viewDashboard, .viewArticles, .viewTeam, .editArticles, .manageTeam, .viewAudit, .editBranding, .manageDomains, .manageAPIKeys,
            .viewBot, .editBotKnowledge, .editBot,
            .viewInbox, .answerInbox, .manageInbox,
        ],
        .owner: [
            .viewDashboard, .viewArticles, .viewTeam, .editArticles, .manageTeam, .viewAudit, .editBranding, .manageDomains, .manageAPIKeys,
            .grantOwner, .viewBot, .editBotKnowledge, .editBot,
            .viewInbox, .answerInbox, .manageInbox,
        ],
        .partnerAdmin: [
            .viewDashboard, .viewArticles, .viewTeam, .editArticles, .manageTeam, .viewAudit, .grantOwner, .viewTenants, .openTenantPanel,
            .createTenant, .changeTenantStatus, .editBranding, .manageDomains, .manageAPIKeys, .viewBot, .editBotKnowledge, .editBot,
            .viewInbox, .answerInbox, .manageInbox, .manageModel,
        ],
        .partnerOwner: [
            .viewDashboard, .viewArticles, .viewTeam, .editArticles, .manageTeam, .viewAudit, .grantOwner, .viewTenants, .openTenantPanel,
            .createTenant, .changeTenantStatus, .editBranding, .manageDomains, .manageAPIKeys, .viewBot, .editBotKnowledge, .editBot,
            .viewInbox, .answerInbox, .manageInbox, .manageModel,
        ],
        .platformAdmin: Set(Permission.allCases),
    ]

    @Test(arguments: Role.allCases)
    func roleMatrix(role: Role) {
        for permission in Permission.allCases {
            let allowed = Self.expected[role]?.contains(permission) ?? false
            #expect(Permissions.allows(role, permission) == allowed, "\(role.rawValue) × \(permission.rawValue)")
        }
    }

    @Test func noRoleMayDoNothing() {
        for permission in Permission.allCases { #expect(!Permissions.allows(nil, permission)) }
    }

    @Test func onlyOwnersAndAboveMayGiveTheOwnerRole() {
        #expect(Permissions.assignableRoles(by: .owner) == [.owner, .admin, .operator, .viewer])
        #expect(Permissions.assignableRoles(by: .admin) == [.admin, .operator, .viewer])
        #expect(Permissions.assignableRoles(by: .operator).isEmpty)
        #expect(Permissions.assignableRoles(by: .viewer).isEmpty)
        #expect(Permissions.assignableRoles(by: .partnerAdmin) == Role.tenantRoles)
    }

    @Test func theStrongestApplicableRoleWinsAndRolesOfOtherKindsOfSiteDoNotApply() {
        let partnerID = UUID()
        let tenant = TenantRecord(
            id: UUID(), slug: "acme", name: "Acme", status: .active, schema: SchemaName("t_abcdefabcdef")!, partnerID: partnerID,
            branding: Branding(), resolvedBranding: Branding(), domains: [])
        let partner = PartnerRecord(id: partnerID, slug: "north", name: "North", branding: Branding(), domains: [])
        #expect(Access(roles: [.viewer, .admin], site: .tenant(tenant)).role == .admin)
        #expect(Access(roles: [.partnerAdmin, .operator], site: .tenant(tenant)).role == .partnerAdmin)
        #expect(Access(roles: [.owner], site: .partner(partner)).role == nil)
        #expect(Access(roles: [.owner, .partnerOwner], site: .platform(PlatformRecord())).role == nil)
        #expect(Access(roles: [.platformAdmin], site: .platform(PlatformRecord())).role == .platformAdmin)
        var independent = tenant
        independent.partnerID = nil
        #expect(Access(roles: [.partnerOwner], site: .tenant(independent)).role == nil)
    }
}

import Foundation
import Hummingbird

/// A partner's shops' teams through the API: the members, invitations by e-mail (the same the shop's panel sends, with
/// the same seat limit) and removal (never the last owner).
struct MembersAPIController: Sendable {
    let users: UserStore
    let invitations: Invitations
    let directory: TenantDirectory
    /// The English interface texts: field problems say what the panel's forms say.
    let texts: [String: String]

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("tenants/:slug/members", use: members)
        group.post("tenants/:slug/members", use: invite)
        group.delete("tenants/:slug/members/:user", use: remove)
    }

    struct MemberJSON: Encodable {
        let userID: String
        let email: String
        let name: String
        let role: String
        let active: Bool
        let since: Date

        enum CodingKeys: String, CodingKey {
            case email, name, role, active, since
            case userID = "user_id"
        }
    }

    @Sendable func members(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.tenantsRead)
        let tenant = try context.partnerTenant(in: directory.snapshot)
        let page = try PageRequest(request)
        let team = try await users.team(tenantID: tenant.id)
        return APIJSON.response(
            page.page(all: team, key: \.email) {
                MemberJSON(
                    userID: $0.userID.uuidString.lowercased(), email: $0.email, name: $0.name, role: $0.role.rawValue, active: $0.active,
                    since: $0.since)
            })
    }

    struct InviteBody: Decodable {
        var email: String?
        var role: String?
    }

    struct InvitationJSON: Encodable {
        let email: String
        let role: String
        let status = "invited"
    }

    /// Invites someone to a shop's team by e-mail (the same invitation the shop's panel sends).
    @Sendable func invite(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.usersWrite)
        let snapshot = directory.snapshot
        let tenant = try context.changeableTenant(in: snapshot)
        let body = try await APIJSON.decode(InviteBody.self, from: request, fields: ["email", "role"])
        let email = EmailAddress.normalize((body.email ?? "").apiText)
        var errors: [String: String] = [:]
        if !EmailAddress.isValid(email) { errors["email"] = "form_email_invalid" }
        let role = Role(rawValue: (body.role ?? "").apiText)
        if role.map({ !Role.tenantRoles.contains($0) }) ?? true { errors["role"] = "form_invalid_choice" }
        try APIError.refuse(errors, texts: texts)
        guard let role else { throw APIError.validation([]) }
        if try await users.team(tenantID: tenant.id).contains(where: { $0.email == email }) {
            throw APIError.conflict(field: "email", texts["team_already_member"] ?? "Already on the team.")
        }
        let partnerName = tenant.partnerID.flatMap { snapshot.partnersByID[$0] }.flatMap { $0.resolvedBranding.name }
        do {
            try await invitations.invite(
                email, role: role, to: tenant, by: Invitations.Inviter(userID: nil, name: partnerName ?? tenant.name),
                origin: context.origin(host: snapshot.primaryHost(of: tenant)),
                language: tenant.resolvedBranding.defaultLanguage ?? Localizer.fallback,
                audit: context.audit("team.invited", target: email, tenantID: tenant.id, details: ["role": role.rawValue]))
        } catch let full as SeatLimitReached {
            throw APIError(.conflict, "The shop's plan has \(full.limit) seats and all are taken by members and pending invitations.")
        }
        return APIJSON.response(InvitationJSON(email: email, role: role.rawValue), status: .accepted)
    }

    @Sendable func remove(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.usersWrite)
        // Allowed on a deleted shop too: letting go of a host or a person is how they move on (not a change to undo).
        let tenant = try context.partnerTenant(in: directory.snapshot)
        guard let userID = context.parameters.get("user").flatMap(UUID.init(uuidString:)),
            let member = try await users.team(tenantID: tenant.id).first(where: { $0.userID == userID })
        else { throw APIError.notFound("There is no such member.") }
        do {
            _ = try await users.removeMember(
                userID: userID, tenantID: tenant.id, audit: context.audit("team.removed", target: member.email, tenantID: tenant.id))
        } catch IdentityError.lastOwner {
            throw APIError(.conflict, "This is the shop's last owner: make someone else an owner first.")
        } catch IdentityError.notFound {
            throw APIError.notFound("There is no such member.")
        }
        return APIJSON.noContent()
    }
}

import Foundation
import Hummingbird

/// A tenant's team: members and their roles, invitations by e-mail, role changes, removal (never the last owner).
public struct TeamController: Sendable {
    let identity: IdentityServices
    let panels: PanelRenderer
    let invitations: Invitations

    public init(identity: IdentityServices, panels: PanelRenderer, invitations: Invitations) {
        self.identity = identity
        self.panels = panels
        self.invitations = invitations
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("team", use: show)
        group.post("team/invite", use: invite)
        group.post("team/members/:user/role", use: changeRole)
        group.post("team/members/:user/remove", use: remove)
        group.post("team/invitations/:id/revoke", use: revoke)
    }

    struct MemberRow {
        let id: String
        /// The person's name, when they gave one (else the address alone is shown).
        let name: String?
        let displayName: String
        let initial: String
        let email: String
        let roleLabel: String
        let since: String
        let pending: Bool
        let isYou: Bool
        let editable: Bool
        let options: [SelectOption]
    }

    struct InvitationRow {
        let id: String
        let email: String
        let roleLabel: String
        let expires: String
    }

    struct TeamPage {
        let members: [MemberRow]
        let invitations: [InvitationRow]
        let hasInvitations: Bool
        let canManage: Bool
        let inviteRoles: [SelectOption]
        let email: String
        let errors: [String: String]
        let agencyNote: String?
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.viewTeam, request: request)
        return try await render(panel, request: request, context: context)
    }

    private func render(
        _ panel: Panel, request: Request, context: AppRequestContext, email: String = "", role: Role = .operator,
        errors: [String: String] = [:], status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        guard let tenant = panel.tenant, let myRole = panel.access.role else { throw HTTPError(.notFound) }
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        async let members = identity.users.team(tenantID: tenant.id)
        async let invitations = OneTimeTokens.pendingInvitations(tenantID: tenant.id, on: identity.client, logger: identity.logger)
        let assignable = Permissions.assignableRoles(by: myRole)
        let rows = try await members.map { member in
            // Only someone who may grant ownership may change or remove an owner.
            let editable =
                panel.allows(.manageTeam) && member.userID != panel.user.user.id
                && (member.role != .owner || panel.allows(.grantOwner))
            return MemberRow(
                id: member.userID.uuidString.lowercased(), name: member.name.isEmpty ? nil : member.name,
                displayName: member.name.isEmpty ? member.email : member.name,
                initial: String((member.name.isEmpty ? member.email : member.name).prefix(1)).uppercased(), email: member.email,
                roleLabel: t[member.role.textKey] ?? member.role.rawValue, since: DateText.long(member.since, language: language),
                pending: !member.active, isYou: member.userID == panel.user.user.id, editable: editable,
                options: assignable.map {
                    SelectOption(value: $0.rawValue, label: t[$0.textKey] ?? $0.rawValue, selected: $0 == member.role)
                })
        }
        let pending = try await invitations.map {
            InvitationRow(
                id: $0.id, email: $0.email, roleLabel: t[$0.role.textKey] ?? $0.role.rawValue,
                expires: DateText.dateTime($0.expiresAt, language: language))
        }
        let page = TeamPage(
            members: rows, invitations: pending, hasInvitations: !pending.isEmpty, canManage: panel.allows(.manageTeam),
            inviteRoles: assignable.map { SelectOption(value: $0.rawValue, label: t[$0.textKey] ?? $0.rawValue, selected: $0 == role) },
            email: email, errors: errors, agencyNote: tenant.partnerID != nil ? t["team_agency_note"] : nil)
        return panels.page(
            "pages/admin/team", page, panel: panel, context: context, request: request, title: t["nav_team"] ?? "", section: "team",
            status: status)
    }

    @Sendable func invite(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageTeam, request: request)
        guard let tenant = panel.tenant, let myRole = panel.access.role else { throw HTTPError(.notFound) }
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        let email = EmailAddress.normalize(context.form.text("email"))
        let role = Role(rawValue: context.form.text("role"))
        var errors: [String: String] = [:]
        if !EmailAddress.isValid(email) { errors["email"] = t["form_email_invalid"] }
        guard let role, Permissions.assignableRoles(by: myRole).contains(role) else {
            throw RefusalError(.forbidden, messageKey: "error_not_allowed")
        }
        if errors.isEmpty, try await identity.users.team(tenantID: tenant.id).contains(where: { $0.email == email }) {
            errors["email"] = t["team_already_member"]
        }
        if !errors.isEmpty {
            return try await render(
                panel, request: request, context: context, email: email, role: role, errors: errors, status: .unprocessableContent
            )
            .response(from: request, context: context)
        }
        do {
            try await invitations.invite(
                email, role: role, to: tenant, by: Invitations.Inviter(userID: panel.user.user.id, name: panel.user.user.displayName),
                origin: context.origin(), language: language,
                audit: panel.audit("team.invited", target: email, details: ["role": role.rawValue]))
        } catch let full as SeatLimitReached {
            let message = (t["team_seats_full"] ?? "").replacingOccurrences(of: "%count", with: String(full.limit))
            return try await render(
                panel, request: request, context: context, email: email, role: role, errors: ["email": message], status: .conflict
            )
            .response(from: request, context: context)
        }
        try await identity.sessions.setFlash(
            Flash(.success, (t["team_invited"] ?? "").replacingOccurrences(of: "%email", with: email)), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin/team", type: .normal)
    }

    @Sendable func changeRole(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageTeam, request: request)
        guard let tenant = panel.tenant, let myRole = panel.access.role else { throw HTTPError(.notFound) }
        let t = panels.localizer.catalog(context.language(request: request))
        let userID = try memberID(context)
        guard let role = Role(rawValue: context.form.text("role")), Permissions.assignableRoles(by: myRole).contains(role) else {
            throw RefusalError(.forbidden, messageKey: "error_not_allowed")
        }
        let member = try await identity.users.team(tenantID: tenant.id).first { $0.userID == userID }
        guard let member else { throw HTTPError(.notFound) }
        return try await changeMember(panel, t: t) {
            let previous = try await identity.users.changeRole(
                userID: userID, tenantID: tenant.id, to: role, mayTouchOwners: panel.allows(.grantOwner), database: identity.database)
            try await identity.audit(
                panel.audit("team.role_changed", target: member.email, details: ["from": previous.rawValue, "to": role.rawValue]))
            return Flash(.success, t["team_role_changed"] ?? "")
        }
    }

    @Sendable func remove(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageTeam, request: request)
        guard let tenant = panel.tenant else { throw HTTPError(.notFound) }
        let t = panels.localizer.catalog(context.language(request: request))
        let userID = try memberID(context)
        let member = try await identity.users.team(tenantID: tenant.id).first { $0.userID == userID }
        guard let member else { throw HTTPError(.notFound) }
        return try await changeMember(panel, t: t) {
            let previous = try await identity.users.removeMember(
                userID: userID, tenantID: tenant.id, mayTouchOwners: panel.allows(.grantOwner), database: identity.database)
            try await identity.audit(panel.audit("team.removed", target: member.email, details: ["role": previous.rawValue]))
            return Flash(.success, (t["team_removed"] ?? "").replacingOccurrences(of: "%email", with: member.email))
        }
    }

    @Sendable func revoke(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageTeam, request: request)
        guard let tenant = panel.tenant else { throw HTTPError(.notFound) }
        let t = panels.localizer.catalog(context.language(request: request))
        let id = context.parameters.get("id") ?? ""
        guard
            let email = try await OneTimeTokens.revokeInvitation(id: id, tenantID: tenant.id, on: identity.client, logger: identity.logger)
        else {
            throw HTTPError(.notFound)
        }
        try await identity.audit(panel.audit("team.invitation_revoked", target: email))
        try await identity.sessions.setFlash(Flash(.success, t["team_invitation_revoked"] ?? ""), sessionID: panel.user.sessionID)
        return .redirect(to: "/admin/team", type: .normal)
    }

    /// Runs a change to one member (checked again under the team's lock) and turns its refusals into answers: the last
    /// owner stays (a flash message), touching an owner without the right to is 403, a member gone meanwhile is 404.
    private func changeMember(_ panel: Panel, t: [String: String], _ change: () async throws -> Flash) async throws -> Response {
        do {
            try await identity.sessions.setFlash(try await change(), sessionID: panel.user.sessionID)
        } catch IdentityError.lastOwner {
            try await identity.sessions.setFlash(Flash(.error, t["team_last_owner"] ?? ""), sessionID: panel.user.sessionID)
        } catch IdentityError.notAllowed {
            throw RefusalError(.forbidden, messageKey: "error_not_allowed")
        } catch IdentityError.notFound {
            throw HTTPError(.notFound)
        }
        return .redirect(to: "/admin/team", type: .normal)
    }

    private func memberID(_ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get("user"), let id = UUID(uuidString: text) else { throw HTTPError(.notFound) }
        return id
    }
}

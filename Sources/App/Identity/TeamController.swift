import Foundation
import Hummingbird

/// A tenant's team: members and their roles, invitations by e-mail, role changes, removal (never the last owner).
public struct TeamController: Sendable {
    let users: UserStore
    let tokens: OneTimeTokens
    let invitations: Invitations
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(
        users: UserStore, tokens: OneTimeTokens, invitations: Invitations, sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer
    ) {
        self.users = users
        self.tokens = tokens
        self.invitations = invitations
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.team, use: show)
        routes.post(.teamInvite, use: invite)
        routes.post(.memberRole(), use: changeRole)
        routes.post(.memberRemove(), use: remove)
        routes.post(.invitationRevoke(), use: revoke)
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
        let roleURL: String
        let removeURL: String
    }

    struct InvitationRow {
        let id: String
        let email: String
        let roleLabel: String
        let expires: String
        let revokeURL: String
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
        let inviteURL = PanelURL.teamInvite.path
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        try await render(context: context)
    }

    private func render(
        context: PanelRequestContext, email: String = "", role: Role = .operator, errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let panel = context.panel
        guard let tenant = panel.tenant, let myRole = panel.access.role else { throw HTTPError(.notFound) }
        let language = panel.language
        let t = panels.texts(context)
        async let members = users.team(tenantID: tenant.id)
        async let invitations = tokens.pendingInvitations(tenantID: tenant.id)
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
                }, roleURL: PanelURL.memberRole(member.userID).path, removeURL: PanelURL.memberRemove(member.userID).path)
        }
        let pending = try await invitations.map {
            InvitationRow(
                id: $0.id, email: $0.email, roleLabel: t[$0.role.textKey] ?? $0.role.rawValue,
                expires: DateText.dateTime($0.expiresAt, language: language), revokeURL: PanelURL.invitationRevoke($0.id).path)
        }
        let page = TeamPage(
            members: rows, invitations: pending, hasInvitations: !pending.isEmpty, canManage: panel.allows(.manageTeam),
            inviteRoles: assignable.map { SelectOption(value: $0.rawValue, label: t[$0.textKey] ?? $0.rawValue, selected: $0 == role) },
            email: email, errors: errors, agencyNote: tenant.partnerID != nil ? t["team_agency_note"] : nil)
        return panels.page("pages/identity/team", page, context: context, title: t["nav_team"] ?? "", current: .team, status: status)
    }

    @Sendable func invite(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        guard let tenant = panel.tenant, let myRole = panel.access.role else { throw HTTPError(.notFound) }
        let language = panel.language
        let t = panels.texts(context)
        let email = EmailAddress.normalize(context.form.text("email"))
        let role = Role(rawValue: context.form.text("role"))
        var errors: [String: String] = [:]
        if !EmailAddress.isValid(email) { errors["email"] = t["form_email_invalid"] }
        guard let role, Permissions.assignableRoles(by: myRole).contains(role) else {
            throw RefusalError(.forbidden, messageKey: "error_not_allowed")
        }
        if errors.isEmpty, try await users.team(tenantID: tenant.id).contains(where: { $0.email == email }) {
            errors["email"] = t["team_already_member"]
        }
        if !errors.isEmpty {
            return try await render(context: context, email: email, role: role, errors: errors, status: .unprocessableContent).response
        }
        do {
            try await invitations.invite(
                email, role: role, to: tenant, by: Invitations.Inviter(userID: panel.user.user.id, name: panel.user.user.displayName),
                origin: context.origin(), language: language,
                audit: panel.audit("team.invited", target: email, details: ["role": role.rawValue]))
        } catch let full as SeatLimitReached {
            let message = (t["team_seats_full"] ?? "").replacingOccurrences(of: "%count", with: String(full.limit))
            return try await render(context: context, email: email, role: role, errors: ["email": message], status: .conflict).response
        }
        try await sessions.setFlash(
            Flash(.success, (t["team_invited"] ?? "").replacingOccurrences(of: "%email", with: email)), sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.team.path, type: .normal)
    }

    @Sendable func changeRole(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        guard let tenant = panel.tenant, let myRole = panel.access.role else { throw HTTPError(.notFound) }
        let t = panels.texts(context)
        let userID = try memberID(context)
        guard let role = Role(rawValue: context.form.text("role")), Permissions.assignableRoles(by: myRole).contains(role) else {
            throw RefusalError(.forbidden, messageKey: "error_not_allowed")
        }
        guard let member = try await users.team(tenantID: tenant.id).first(where: { $0.userID == userID }) else {
            throw HTTPError(.notFound)
        }
        return try await changeMember(panel, t: t) {
            _ = try await users.changeRole(
                userID: userID, tenantID: tenant.id, to: role, mayTouchOwners: panel.allows(.grantOwner),
                audit: panel.audit("team.role_changed", target: member.email))
            return Flash(.success, t["team_role_changed"] ?? "")
        }
    }

    @Sendable func remove(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        guard let tenant = panel.tenant else { throw HTTPError(.notFound) }
        let t = panels.texts(context)
        let userID = try memberID(context)
        guard let member = try await users.team(tenantID: tenant.id).first(where: { $0.userID == userID }) else {
            throw HTTPError(.notFound)
        }
        return try await changeMember(panel, t: t) {
            _ = try await users.removeMember(
                userID: userID, tenantID: tenant.id, mayTouchOwners: panel.allows(.grantOwner),
                audit: panel.audit("team.removed", target: member.email))
            return Flash(.success, (t["team_removed"] ?? "").replacingOccurrences(of: "%email", with: member.email))
        }
    }

    @Sendable func revoke(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        guard let tenant = panel.tenant else { throw HTTPError(.notFound) }
        let id = context.parameters.get("id") ?? ""
        guard let email = try await tokens.revokeInvitation(id: id, tenantID: tenant.id) else { throw HTTPError(.notFound) }
        try await auditLog.record(panel.audit("team.invitation_revoked", target: email))
        try await sessions.setFlash(
            Flash(.success, panels.texts(context)["team_invitation_revoked"] ?? ""), sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.team.path, type: .normal)
    }

    /// Runs a change to one member (checked again under the team's lock) and turns its refusals into answers: the last
    /// owner stays (a flash message), touching an owner without the right to is 403, a member gone meanwhile is 404.
    private func changeMember(_ panel: Panel, t: [String: String], _ change: () async throws -> Flash) async throws -> Response {
        do {
            try await sessions.setFlash(try await change(), sessionID: panel.user.sessionID)
        } catch IdentityError.lastOwner {
            try await sessions.setFlash(Flash(.error, t["team_last_owner"] ?? ""), sessionID: panel.user.sessionID)
        } catch IdentityError.notAllowed {
            throw RefusalError(.forbidden, messageKey: "error_not_allowed")
        } catch IdentityError.notFound {
            throw HTTPError(.notFound)
        }
        return .redirect(to: PanelURL.team.path, type: .normal)
    }

    private func memberID(_ context: PanelRequestContext) throws -> UUID {
        guard let text = context.parameters.get("user"), let id = UUID(uuidString: text) else { throw HTTPError(.notFound) }
        return id
    }
}

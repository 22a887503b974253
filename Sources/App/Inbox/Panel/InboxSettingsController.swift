import Foundation
import Hummingbird

/// The inbox's settings (`/admin/inbox/settings`, admins and owners): the waiting target, auto-assignment and each
/// operator's capacity, retention, the widget's signed-identity secret; and deleting a shopper's data with all their
/// conversations (`/admin/inbox/contacts/<id>/delete`, a confirmation page, then the POST). Each change is audited.
public struct InboxSettingsController: Sendable {
    let tenants: TenantDatabase
    let settings: InboxSettingsStore
    let sessions: SessionStore
    let auditLog: AuditLog
    let scripts: PanelScripts
    let panels: PanelRenderer

    public init(
        tenants: TenantDatabase, settings: InboxSettingsStore, sessions: SessionStore, auditLog: AuditLog, scripts: PanelScripts,
        panels: PanelRenderer
    ) {
        self.tenants = tenants
        self.settings = settings
        self.sessions = sessions
        self.auditLog = auditLog
        self.scripts = scripts
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.inboxSettings, use: edit)
        routes.post(.inboxSettings, use: update)
        routes.post(.inboxSecret, use: rotate)
        routes.get(.inboxContactDelete(), use: confirmDelete)
        routes.post(.inboxContactDelete(), use: delete)
    }

    @Sendable func edit(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let (current, secret) = try await read(context)
        var page = InboxSettingsPage(current)
        page.maskedSecret = secret.map(SecretBox.masked)
        return render(page, context)
    }

    /// Saves the settings, or the form again with what was typed and a sentence beside each refused field.
    @Sendable func update(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try InboxPanel.tenant(context)
        let t = panels.texts(context)
        let (current, secret) = try await read(context)
        var page = InboxSettingsPage(form: context.form)
        let (changed, errors) = page.settings(applied: current, t: t)
        guard errors.isEmpty else {
            page.errors = errors
            page.showErrors = true
            page.hasSecret = current.hasIdentitySecret
            page.maskedSecret = secret.map(SecretBox.masked)
            return render(page, context, status: .unprocessableContent).response
        }
        let audit = context.panel.audit("inbox.settings_changed", details: InboxSettingsPage.changes(from: current, to: changed))
        try await tenants.withTenant(tenant, logger: context.logger) { connection in
            try await settings.write(changed, on: connection)
            try await auditLog.record(audit, on: connection)
        }
        try await sessions.setFlash(Flash(.success, t["inbox_settings_saved"] ?? ""), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.inboxSettings.path, type: .normal)
    }

    /// Makes the first secret, or a new one in place of the old (which stops verifying at once: confirmed by a
    /// checkbox). The answer shows it in full, once, and is not kept in any cache.
    @Sendable func rotate(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try InboxPanel.tenant(context)
        let t = panels.texts(context)
        let (current, old) = try await read(context)
        var page = InboxSettingsPage(current)
        guard !current.hasIdentitySecret || context.form["confirm"] != nil else {
            page.maskedSecret = old.map(SecretBox.masked)
            page.secretError = t["inbox_secret_confirm_needed"]
            return render(page, context, status: .unprocessableContent).response
        }
        let audit = context.panel.audit(
            "inbox.identity_secret_rotated", details: ["secret": current.hasIdentitySecret ? "replaced" : "created"])
        let secret = try await tenants.withTenant(tenant, logger: context.logger) { connection in
            let secret = try await settings.rotateIdentitySecret(on: connection)
            try await auditLog.record(audit, on: connection)
            return secret
        }
        page.hasSecret = true
        page.newSecret = secret
        page.maskedSecret = SecretBox.masked(secret)
        var response = render(page, context).response
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// "Delete this shopper's data?": their name and how many conversations and messages go with them.
    @Sendable func confirmDelete(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try InboxPanel.tenant(context)
        let id = try InboxPanel.id(context)
        let t = panels.texts(context)
        let language = context.panel.language
        let found = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            try await connection.value(
                (String?, String?, Int, Int).self,
                """
                SELECT co.name, co.email, (SELECT count(*)::int FROM conversations WHERE contact_id = co.id),
                    (SELECT count(*)::int FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.contact_id = co.id)
                FROM contacts co WHERE co.id = \(id)
                """)
        }
        guard let found else { throw HTTPError(.notFound) }
        let conversation = request.uri.queryParameters.get("conversation").flatMap(Int.init)
        let page = InboxContactDeletePage(
            name: InboxPanel.contactName(found.0, email: found.1, id: id, t: t),
            conversations: NumberText.format(found.2, language: language), messages: NumberText.format(found.3, language: language),
            action: PanelURL.inboxContactDelete(id).path,
            cancelURL: conversation.map { PanelURL.inboxConversation($0).path } ?? PanelURL.inbox.path,
            conversation: conversation.map(String.init) ?? "")
        return panels.page(
            "pages/inbox/contact-delete", page, context: context, title: t["inbox_contact_delete_title"] ?? "", current: .inbox,
            crumbs: [(.inbox, t["nav_inbox"] ?? "")])
    }

    /// Deletes the contact; their conversations, messages and widget visitors go with them (foreign keys cascade).
    @Sendable func delete(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try InboxPanel.tenant(context)
        let id = try InboxPanel.id(context)
        let t = panels.texts(context)
        let panel = context.panel
        // The audit entry names the contact by number only: their name is part of what is deleted.
        let deleted = try await tenants.withTenant(tenant, logger: context.logger) { connection -> Bool in
            guard
                let conversations = try await connection.value(
                    Int.self,
                    """
                    WITH c AS (SELECT count(*)::int AS n FROM conversations WHERE contact_id = \(id)),
                    d AS (DELETE FROM contacts WHERE id = \(id) RETURNING id)
                    SELECT c.n FROM c, d
                    """)
            else { return false }
            try await auditLog.record(
                panel.audit("inbox.contact_deleted", target: "#\(id)", details: ["conversations": String(conversations)]), on: connection)
            return true
        }
        guard deleted else { throw HTTPError(.notFound) }
        try await sessions.setFlash(Flash(.success, t["inbox_contact_deleted"] ?? ""), sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.inbox.path, type: .normal)
    }

    /// The settings and the secret in clear (nil when there is none or it cannot be opened).
    private func read(_ context: PanelRequestContext) async throws -> (InboxSettings, String?) {
        let tenant = try InboxPanel.tenant(context)
        return try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            let current = try await settings.read(on: connection)
            let secret = current.hasIdentitySecret ? try? await settings.identitySecret(on: connection) : nil
            return (current, secret)
        }
    }

    private func render(_ page: InboxSettingsPage, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok) -> HTMLPage {
        let t = panels.texts(context)
        var page = page
        page.copyScript = scripts.copy
        return panels.page(
            "pages/inbox/settings", page, context: context, title: t["inbox_settings_title"] ?? "", current: .inbox,
            crumbs: [(.inbox, t["nav_inbox"] ?? "")], status: status)
    }
}

import Foundation
import Hummingbird

/// A conversation in the inbox (`/admin/inbox/<id>`) and what an operator does to it: reply, leave a note, take it or
/// hand it to a teammate, put it back in the queue, resolve it, give it back to the bot. Plain forms with
/// POST-redirect-GET and a flash; a move someone else made meanwhile is said in a sentence and the page shown again.
public struct InboxConversationController: Sendable {
    let tenants: TenantDatabase
    let inbox: InboxStore
    let actions: InboxActions
    let settings: InboxSettingsStore
    let presence: PresenceStore
    let sessions: SessionStore
    let scripts: PanelScripts
    let panels: PanelRenderer
    /// Drafts replies for "Suggest a reply" (nil: the button answers that there is no model).
    let suggester: ReplySuggester?

    public init(
        tenants: TenantDatabase, inbox: InboxStore = InboxStore(), actions: InboxActions, settings: InboxSettingsStore,
        presence: PresenceStore, sessions: SessionStore, scripts: PanelScripts, panels: PanelRenderer, suggester: ReplySuggester? = nil
    ) {
        self.tenants = tenants
        self.inbox = inbox
        self.actions = actions
        self.settings = settings
        self.presence = presence
        self.sessions = sessions
        self.scripts = scripts
        self.panels = panels
        self.suggester = suggester
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.inboxConversation(), use: show)
        routes.post(.inboxReply(), use: reply)
        routes.post(.inboxNote(), use: note)
        routes.post(.inboxAction(), use: act)
        routes.post(.inboxSuggest(), use: suggest)
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        try await render(try InboxPanel.id(context), context: context)
    }

    /// Sends the operator's reply (taking the conversation when nobody holds it). "Insert" — or sending an empty text
    /// with a template chosen — puts the template into the text instead, for the operator to read before sending.
    @Sendable func reply(request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try InboxPanel.id(context)
        let typed = context.form.raw("text")
        if context.form["whatsapp_send"] != nil {
            return try await perform(.template(context.form.text("whatsapp_template")), id: id, context: context, done: "inbox_replied")
        }
        let template = context.form.text("template")
        if !template.isEmpty, context.form["insert"] != nil || typed.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return try await render(id, context: context, typed: typed, insert: template).response
        }
        return try await perform(.reply(typed), id: id, context: context, typed: typed, done: "inbox_replied")
    }

    /// Saves an internal note: colleagues see it, the shopper never does.
    @Sendable func note(request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try InboxPanel.id(context)
        let typed = context.form.raw("text")
        return try await perform(.note(typed), id: id, context: context, typed: typed, done: "inbox_noted")
    }

    /// Take, assign to a teammate, put back in the queue, resolve, give back to the bot (`action`, and `user` to assign).
    @Sendable func act(request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try InboxPanel.id(context)
        let t = panels.texts(context)
        let me = context.panel.user.user.id
        switch context.form.text("action") {
        case "take": return try await perform(.assign(me), id: id, context: context, done: "inbox_taken")
        case "assign":
            guard let user = UUID(uuidString: context.form.text("user")) else {
                try await flash(.error, t["inbox_choose_teammate"] ?? "", context)
                return .redirect(to: PanelURL.inboxConversation(id).path, type: .normal)
            }
            return try await perform(.assign(user), id: id, context: context, done: user == me ? "inbox_taken" : "inbox_assigned")
        case "release": return try await perform(.release, id: id, context: context, done: "inbox_released")
        case "resolve": return try await perform(.resolve, id: id, context: context, done: "inbox_resolved")
        case "hand_back": return try await perform(.handBack, id: id, context: context, done: "inbox_handed_back")
        default: throw HTTPError(.badRequest)
        }
    }

    /// Does `action`, then back to the conversation with a flash; a refused text keeps what was typed.
    private func perform(
        _ action: InboxActions.Action, id: Int, context: PanelRequestContext, typed: String = "", done: String
    ) async throws -> Response {
        let tenant = try InboxPanel.tenant(context)
        let t = panels.texts(context)
        do {
            try await actions.perform(action, conversation: id, user: context.panel.user.user.id, in: tenant)
        } catch let error as InboxError {
            switch error {
            case .notFound: throw HTTPError(.notFound)
            case .empty, .tooLong, .windowClosed, .noTemplate:
                return try await render(id, context: context, typed: typed, error: t[error.textKey], status: .unprocessableContent)
                    .response
            case .notATeammate:
                try await flash(.error, t[error.textKey] ?? "", context)
            }
            return .redirect(to: PanelURL.inboxConversation(id).path, type: .normal)
        } catch is IllegalTransition {
            try await flash(.error, t["inbox_moved"] ?? "", context)
            return .redirect(to: PanelURL.inboxConversation(id).path, type: .normal)
        } catch is ConversationMoved {
            try await flash(.error, t["inbox_moved"] ?? "", context)
            return .redirect(to: PanelURL.inboxConversation(id).path, type: .normal)
        }
        try await flash(.success, t[done] ?? "", context)
        return .redirect(to: PanelURL.inboxConversation(id).path, type: .normal)
    }

    private func flash(_ kind: Flash.Kind, _ message: String, _ context: PanelRequestContext) async throws {
        try await sessions.setFlash(Flash(kind, message), sessionID: context.panel.user.sessionID)
    }

    /// WhatsApp's approved templates when its 24-hour window is closed, else nil.
    private func whatsappWindow(_ conversation: InboxConversation, on connection: TenantConnection) async throws -> [WhatsAppTemplate]? {
        guard conversation.channel == .whatsapp, try await ChannelWindow.isClosed(conversation: conversation.id, on: connection) else {
            return nil
        }
        return try await ChannelWindow.templates(conversation: conversation.id, on: connection)
    }

    /// The conversation's page; `insert` names a template to add to the typed text; `configure` changes the page last.
    func render(
        _ id: Int, context: PanelRequestContext, typed: String = "", insert: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok, configure: (inout InboxConversationPage) -> Void = { _ in }
    ) async throws -> HTMLPage {
        let tenant = try InboxPanel.tenant(context)
        let panel = context.panel
        let t = panels.texts(context)
        let user = panel.user.user.id
        let data = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection -> InboxConversationData in
            guard let conversation = try await inbox.conversation(id, on: connection) else { throw HTTPError(.notFound) }
            return InboxConversationData(
                conversation: conversation, messages: try await inbox.messages(id, on: connection),
                events: try await inbox.events(id, on: connection), teammates: try await inbox.teammates(on: connection),
                templates: try await BotConfigStore().templates(on: connection), waitingCount: try await inbox.waitingCount(on: connection),
                targetWait: try await settings.read(on: connection).targetWaitSeconds,
                window: try await whatsappWindow(conversation, on: connection))
        }
        let answers = panel.allows(.answerInbox)
        let presenceStatus = answers ? try await presence.status(user: user, tenant: tenant.id) : nil
        let header = InboxHeader(
            context: context, presence: presenceStatus, script: scripts.inbox, back: PanelURL.inboxConversation(id).path, t: t)
        var page = InboxConversationPage(
            data, header: header, user: user, canAnswer: answers, canManage: panel.allows(.manageInbox), t: t,
            language: panel.language, now: Date())
        let values = TemplateValues(
            contactName: data.conversation.contactName, shopName: tenant.resolvedBranding.name ?? tenant.name, botName: page.botName,
            channel: data.conversation.channel)
        let templates = ResponseTemplates(data.templates)
        page.templates = data.templates.map { template in
            InboxConversationPage.TemplateOption(
                name: template.name, text: templates.render(template.name, values) ?? template.text)
        }
        page.typed = typed
        if let insert, let text = templates.render(insert, values) {
            let kept = typed.trimmingCharacters(in: .whitespacesAndNewlines)
            page.typed = kept.isEmpty ? text : kept + "\n" + text
        }
        page.error = error
        configure(&page)
        return panels.page(
            "pages/inbox/conversation", page, context: context, title: page.name, current: .inbox,
            crumbs: [(.inbox, t["nav_inbox"] ?? "")], status: status)
    }
}

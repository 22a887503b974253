import Foundation
import Hummingbird

/// The bot's messengers (`/admin/bot/channels?bot=<slug>`, admins and owners): Telegram, WhatsApp and Alice, each
/// connected with its form (`/admin/bot/channels/<kind>`) and disconnected with its button
/// (`/admin/bot/channels/<kind>/disconnect`). Every connection and disconnection is in the audit log, never a secret.
public struct ChannelsController: Sendable {
    let tenants: TenantDatabase
    let bots: BotStore
    let connections: ChannelConnectionStore
    let connector: ChannelConnector
    let sessions: SessionStore
    let auditLog: AuditLog
    let scripts: PanelScripts
    let panels: PanelRenderer

    public init(
        tenants: TenantDatabase, bots: BotStore = BotStore(), connections: ChannelConnectionStore, connector: ChannelConnector,
        sessions: SessionStore, auditLog: AuditLog, scripts: PanelScripts, panels: PanelRenderer
    ) {
        self.tenants = tenants
        self.bots = bots
        self.connections = connections
        self.connector = connector
        self.sessions = sessions
        self.auditLog = auditLog
        self.scripts = scripts
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.botChannels, use: show)
        routes.post(.botChannel(), use: connect)
        routes.post(.botChannelDisconnect(), use: disconnect)
    }

    /// The bot, the shop's bots and the bot's connections by kind.
    struct State {
        let bot: Bot
        let all: [Bot]
        let stored: [ChannelKind: ChannelConnection]
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let state = try await read(request, context)
        return render(page(state, context), state, context)
    }

    /// Connects (or reconnects) the bot; bad input shows the form again with the sentence beside its field (422).
    @Sendable func connect(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let kind = try Self.kind(context)
        let t = panels.texts(context)
        let state = try await read(request, context)
        let asked = ChannelCard.request(kind, form: context.form)
        var refusal = ChannelInput.check(asked)
        var connection: ChannelConnection?
        if refusal == nil {
            do {
                connection = try await connector.connect(asked, botID: state.bot.id, in: tenant, logger: context.logger)
            } catch let refused as ChannelConnectionError {
                refusal = refused
            } catch is NoBot {
                throw HTTPError(.notFound)
            }
        }
        guard let connection else {
            var page = page(state, context)
            if let refusal {
                page[kind].errors[ChannelInput.field(of: refusal)] = t["channels_error_" + refusal.key] ?? refusal.description
            }
            page[kind].keep(asked)
            return render(page, state, context, status: .unprocessableContent).response
        }
        try await auditLog.record(
            context.panel.audit("channel.connected", target: state.bot.slug, details: ChannelInput.auditDetails(connection)))
        let flash: Flash
        switch connection.status {
        case .failed:
            let detail = connection.statusKey.flatMap { t["channels_refused_" + $0] } ?? connection.statusDetail ?? ""
            flash = Flash(.error, (t["channels_failed"] ?? "").replacingOccurrences(of: "%detail", with: detail))
        case .pending, .active: flash = Flash(.success, t["channels_connected_" + kind.rawValue] ?? "")
        }
        try await sessions.setFlash(flash, sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.botChannels.path(query: [("bot", state.bot.slug)]), type: .normal)
    }

    /// Disconnects the bot from the messenger (the provider is told when it can be).
    @Sendable func disconnect(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let kind = try Self.kind(context)
        let t = panels.texts(context)
        let state = try await read(request, context)
        if let removed = try await connector.disconnect(botID: state.bot.id, kind: kind, in: tenant, logger: context.logger) {
            var details = ChannelInput.auditDetails(removed)
            details["status"] = nil
            details["detail"] = nil
            try await auditLog.record(context.panel.audit("channel.disconnected", target: state.bot.slug, details: details))
            try await sessions.setFlash(Flash(.success, t["channels_disconnected"] ?? ""), sessionID: context.panel.user.sessionID)
        }
        return .redirect(to: PanelURL.botChannels.path(query: [("bot", state.bot.slug)]), type: .normal)
    }

    /// The kind the address names (`:kind`); another word is a 404.
    static func kind(_ context: PanelRequestContext) throws -> ChannelKind {
        guard let kind = context.parameters.get("kind").flatMap(ChannelKind.init(rawValue:)) else { throw HTTPError(.notFound) }
        return kind
    }

    /// The bot the address names (`?bot=<slug>`, else the shop's first) and its connections.
    private func read(_ request: Request, _ context: PanelRequestContext) async throws -> State {
        let tenant = try BotPanel.tenant(context)
        let slug = request.uri.queryParameters.get("bot")
        let (bots, connections) = (bots, connections)
        let state = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection -> State? in
            let all = try await bots.list(on: connection)
            guard let bot = slug.map({ slug in all.first { $0.slug == slug } }) ?? all.first else { return nil }
            var stored: [ChannelKind: ChannelConnection] = [:]
            for kind in ChannelKind.allCases {
                stored[kind] = try await connections.find(botID: bot.id, kind: kind, on: connection)
            }
            return State(bot: bot, all: all, stored: stored)
        }
        guard let state else { throw HTTPError(.notFound) }
        return state
    }

    /// The cards as stored.
    private func page(_ state: State, _ context: PanelRequestContext) -> ChannelsPage {
        let t = panels.texts(context)
        let tenant = context.panel.tenant
        func card(_ kind: ChannelKind) -> ChannelCard {
            let stored = state.stored[kind]
            let url = stored.flatMap { stored in tenant.map { connector.webhookURL(stored, tenant: $0) } }
            return ChannelCard(kind, stored: stored, webhookURL: url, t: t)
        }
        return ChannelsPage(telegram: card(.telegram), whatsapp: card(.whatsapp), alice: card(.alice))
    }

    private func render(
        _ page: ChannelsPage, _ state: State, _ context: PanelRequestContext, status: HTTPResponse.Status = .ok
    ) -> HTMLPage {
        let t = panels.texts(context)
        let language = BotLanguage(rawValue: context.panel.language) ?? .ru
        var page = page
        page.slug = state.bot.slug
        page.botName = state.bot.displayName(language)
        page.bots = state.all.map { bot in
            ChannelsPage.BotLink(
                name: bot.displayName(language), url: PanelURL.botChannels.path(query: [("bot", bot.slug)]), current: bot.id == state.bot.id
            )
        }
        page.hasSeveral = page.bots.count > 1
        for kind in ChannelKind.allCases { page[kind].finish(slug: state.bot.slug) }
        page.copyScript = scripts.copy
        page.settingsURL = PanelURL.bot.path(query: [("bot", state.bot.slug)])
        return panels.page(
            "pages/channels/connections", page, context: context, title: t["nav_bot_channels"] ?? "", current: .botChannels, status: status)
    }
}

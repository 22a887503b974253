import Foundation
import Hummingbird
import PostgresNIO

/// "Try the bot" (`/admin/bot/try`): a chat with the shop's real pipeline on the `test` channel, each answer shown with
/// why it was given. Plain POST-redirect-GET: it works without JavaScript, and a reload never sends a message twice.
public struct BotTryController: Sendable {
    let engine: BotEngine
    let tenants: TenantDatabase
    let bots: BotStore
    let panels: PanelRenderer
    let conversations = ConversationStore()

    public init(engine: BotEngine, tenants: TenantDatabase, bots: BotStore = BotStore(), panels: PanelRenderer) {
        self.engine = engine
        self.tenants = tenants
        self.bots = bots
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.botTry, use: show)
        routes.post(.botTry, use: send)
    }

    /// The conversation named by `?c=` (a test one), or an empty chat.
    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let id = request.uri.queryParameters.get("c").flatMap { Int(String($0)) }
        return try await render(conversationID: id, context: context)
    }

    /// Sends the shopper's text to the bot, then back to the conversation (303).
    @Sendable func send(request: Request, context: PanelRequestContext) async throws -> Response {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let id = Int(context.form.text("conversation"))
        let text = context.form.text("text")
        guard !text.isEmpty else {
            return try await render(
                conversationID: id, context: context, typed: text, error: t["bot_try_empty"], status: .unprocessableContent
            )
            .response
        }
        guard text.count <= 4000 else {
            return try await render(
                conversationID: id, context: context, typed: text, error: t["form_too_long"], status: .unprocessableContent
            )
            .response
        }
        if let id {
            // Only the test chat's own conversations: a shopper's real one is never written to from here.
            let channel = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
                try await connection.value(String.self, "SELECT channel FROM conversations WHERE id = \(id)")
            }
            guard channel == ConversationChannel.test.rawValue else { throw HTTPError(.notFound) }
        }
        let message = ShopperMessage(
            text: text, channel: .test, conversationID: id, contactName: context.panel.user.user.displayName)
        do {
            let reply = try await engine.reply(to: message, in: tenant, logger: context.logger)
            return .redirect(to: PanelURL.botTry.path(query: [("c", String(reply.conversationID))]), type: .normal)
        } catch is NoBot {
            return try await render(conversationID: nil, context: context, typed: text, error: t["bot_none"], status: .unprocessableContent)
                .response
        } catch is ConversationNotFound {
            throw HTTPError(.notFound)
        }
    }

    private func render(
        conversationID: Int?, context: PanelRequestContext, typed: String = "", error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let tenant = try BotPanel.tenant(context)
        let t = panels.texts(context)
        let (bot, conversation, messages) = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) {
            connection -> (Bot?, TryConversation?, [StoredMessage]) in
            let bot = try await bots.find(id: nil, on: connection)
            guard let id = conversationID else { return (bot, nil, []) }
            guard
                let found = try await connection.value(
                    (String, String).self, "SELECT channel, state FROM conversations WHERE id = \(id)"),
                found.0 == ConversationChannel.test.rawValue
            else { throw HTTPError(.notFound) }
            let state = ConversationState(rawValue: found.1) ?? .bot
            return (bot, TryConversation(id: id, state: state), try await conversations.messages(id, on: connection))
        }
        let language = context.panel.language
        let page = BotTryPage(
            bot: bot, conversation: conversation, messages: messages, typed: typed, error: error, t: t, language: language)
        return panels.page("pages/bot/try", page, context: context, title: t["nav_bot_try"] ?? "", current: .botTry, status: status)
    }
}

/// The test conversation on show.
struct TryConversation: Sendable {
    let id: Int
    let state: ConversationState
}

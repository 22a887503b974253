import Foundation
import Hummingbird

/// The platform panel's Outbox: every e-mail the installation queued, its status and last error, and each message as
/// text and (sandboxed) HTML, so invitations and resets can be followed without a mail server in development.
public struct OutboxController: Sendable {
    let outbox: Outbox
    let panels: PanelRenderer

    public init(outbox: Outbox, panels: PanelRenderer) {
        self.outbox = outbox
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.outbox, use: list)
        routes.get(.outboxMessage(), use: message)
        routes.get(.outboxHTML(), use: html)
    }

    struct OutboxRow {
        let id: Int
        let to: String
        let subject: String
        let status: String
        let statusClass: String
        let created: String
        let href: String
    }

    struct OutboxPage {
        let rows: [OutboxRow]
        let empty: Bool
        let delivers: Bool
        /// Only when there is something to page through.
        let pager: Pager?
    }

    struct OutboxMessagePage {
        let id: Int
        let to: String
        let subject: String
        let status: String
        let statusClass: String
        let created: String
        let text: String
        let hasHTML: Bool
        let error: String?
        let htmlURL: String
    }

    @Sendable func list(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let language = context.panel.language
        let t = panels.texts(context)
        let pageNumber = Pager.requested(request)
        let (messages, total) = try await outbox.list(page: pageNumber)
        let rows = messages.map {
            OutboxRow(
                id: $0.id, to: $0.to, subject: $0.subject, status: t["outbox_" + $0.status] ?? $0.status, statusClass: $0.status,
                created: DateText.dateTime($0.createdAt, language: language), href: PanelURL.outboxMessage($0.id).path)
        }
        let page = OutboxPage(
            rows: rows, empty: rows.isEmpty, delivers: outbox.delivers,
            pager: total == 0
                ? nil
                : Pager(page: pageNumber, perPage: 50, total: total, language: language, t: t) {
                    PanelURL.outbox.path(query: [("page", "\($0)")])
                })
        return panels.page("pages/mail/outbox", page, context: context, title: t["nav_outbox"] ?? "", current: .outbox)
    }

    @Sendable func message(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let language = context.panel.language
        let t = panels.texts(context)
        guard let id = context.parameters.get("id").flatMap(Int.init), let message = try await outbox.message(id: id) else {
            throw HTTPError(.notFound)
        }
        let page = OutboxMessagePage(
            id: id, to: message.to, subject: message.subject, status: t["outbox_" + message.status] ?? message.status,
            statusClass: message.status, created: DateText.dateTime(message.createdAt, language: language), text: message.text,
            hasHTML: message.html != nil, error: message.lastError, htmlURL: PanelURL.outboxHTML(id).path)
        return panels.page(
            "pages/mail/message", page, context: context, title: message.subject, current: .outbox,
            crumbs: [(.outbox, t["nav_outbox"] ?? "")])
    }

    /// The HTML part as the recipient would see it, in a sandbox: no scripts, no forms, nothing from this origin.
    @Sendable func html(request: Request, context: PanelRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(Int.init), let html = try await outbox.message(id: id)?.html else {
            throw HTTPError(.notFound)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy:
                    "sandbox; default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

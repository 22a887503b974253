import Foundation
import Hummingbird

/// The inbox's queues (`/admin/inbox?queue=waiting|mine|bot|resolved|all&before=<id>`): tabs with counts and a page of
/// conversations, each with its last message, its assignee and, while it waits, its waiting clock. Live updates come
/// from `inbox.js` (it fetches this page again and swaps its `data-live` parts), so the page is whole without them.
public struct InboxListController: Sendable {
    let tenants: TenantDatabase
    let inbox: InboxStore
    let settings: InboxSettingsStore
    let presence: PresenceStore
    let scripts: PanelScripts
    let panels: PanelRenderer

    static let pageSize = 50

    public init(
        tenants: TenantDatabase, inbox: InboxStore = InboxStore(), settings: InboxSettingsStore, presence: PresenceStore,
        scripts: PanelScripts, panels: PanelRenderer
    ) {
        self.tenants = tenants
        self.inbox = inbox
        self.settings = settings
        self.presence = presence
        self.scripts = scripts
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.inbox, use: list)
    }

    @Sendable func list(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let tenant = try InboxPanel.tenant(context)
        let t = panels.texts(context)
        let parameters = request.uri.queryParameters
        let queue = parameters.get("queue").flatMap(InboxQueue.init(rawValue:)) ?? .waiting
        let after = parameters.get("before").flatMap(Int.init)
        let user = context.panel.user.user.id
        let (counts, rows, target) = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            (
                try await inbox.counts(user: user, on: connection),
                try await inbox.page(queue, user: user, after: after, limit: Self.pageSize + 1, on: connection),
                try await settings.read(on: connection).targetWaitSeconds
            )
        }
        let status = context.panel.allows(.answerInbox) ? try await presence.status(user: user, tenant: tenant.id) : nil
        let back = PanelURL.inbox.path(query: queue == .waiting ? [] : [("queue", queue.rawValue)])
        let header = InboxHeader(context: context, presence: status, script: scripts.inbox, back: back, t: t)
        let page = InboxListPage(
            queue: queue, counts: counts, rows: Array(rows.prefix(Self.pageSize)), hasMore: rows.count > Self.pageSize,
            isFirstPage: after == nil, targetWait: target, user: user, header: header, t: t, language: context.panel.language,
            now: Date())
        return panels.page("pages/inbox/list", page, context: context, title: t["nav_inbox"] ?? "", current: .inbox)
    }
}

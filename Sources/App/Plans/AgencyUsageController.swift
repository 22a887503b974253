import Foundation
import Hummingbird

/// The agency's usage table (`/admin/usage/shops`): every one of its shops for a chosen month (`?month=2026-12`, this
/// month by default), with totals, and the same as CSV. On the platform's panel it lists every shop, or one agency's
/// (`?agency=<slug>`).
public struct AgencyUsageController: Sendable {
    let plans: PlanStore
    let directory: TenantDirectory
    let clock: WallClock
    let panels: PanelRenderer

    public init(plans: PlanStore, directory: TenantDirectory, clock: WallClock, panels: PanelRenderer) {
        self.plans = plans
        self.directory = directory
        self.clock = clock
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.shopsUsage, use: table)
        routes.get(.shopsUsageCSV, use: csv)
    }

    /// What the request asks for: the month, the shops and the agency named in the CSV's file name.
    struct Selection {
        let month: UsageMonth
        let scope: UsageScope
        /// The agency whose shops these are (`nil`: every shop of the installation).
        let agency: PartnerRecord?
    }

    @Sendable func table(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let selection = try select(request, context)
        let shops = try await plans.usage(selection.scope, month: selection.month)
        let t = panels.texts(context)
        let page = AgencyUsagePage(
            shops: shops, selection: selection, current: UsageMonth(containing: clock.now()),
            agencies: context.panel.site.kind == .platform ? directory.snapshot.partnersBySlug.values.sorted { $0.name < $1.name } : nil,
            t: t, language: context.panel.language)
        return panels.page("pages/plans/shops", page, context: context, title: t["usage_shops_title"] ?? "", current: .shopsUsage)
    }

    @Sendable func csv(request: Request, context: PanelRequestContext) async throws -> Response {
        let selection = try select(request, context)
        let shops = try await plans.usage(selection.scope, month: selection.month)
        let body = UsageCSV.document(shops, withAgency: selection.agency == nil)
        let filename = UsageCSV.filename(agency: selection.agency?.slug, month: selection.month)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\"",
                .cacheControl: "no-store",
            ],
            body: .init(byteBuffer: .init(string: body)))
    }

    /// The month (400 when it is not `YYYY-MM`) and the shops: the agency's own on its panel; on the platform's, every
    /// shop or one agency's (404 for an unknown agency).
    private func select(_ request: Request, _ context: PanelRequestContext) throws -> Selection {
        let query = request.uri.queryParameters
        var month = UsageMonth(containing: clock.now())
        if let text = query.get("month"), !text.isEmpty {
            guard let chosen = UsageMonth(text) else { throw RefusalError(.badRequest, messageKey: "usage_month_invalid") }
            month = chosen
        }
        if let partner = context.panel.partner { return Selection(month: month, scope: .partner(partner.id), agency: partner) }
        guard let slug = query.get("agency"), !slug.isEmpty else { return Selection(month: month, scope: .everyone, agency: nil) }
        guard let agency = directory.snapshot.partnersBySlug[slug] else { throw HTTPError(.notFound) }
        return Selection(month: month, scope: .partner(agency.id), agency: agency)
    }
}

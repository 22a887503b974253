import Foundation
import Hummingbird

/// A shop's usage (`/admin/usage`, admins and owners): this month against its plan's limits and its own token cap,
/// the last 12 months, and the form that sets or clears the cap (audited).
public struct ShopUsageController: Sendable {
    let plans: PlanStore
    let sessions: SessionStore
    let auditLog: AuditLog
    let clock: WallClock
    let panels: PanelRenderer

    public init(plans: PlanStore, sessions: SessionStore, auditLog: AuditLog, clock: WallClock, panels: PanelRenderer) {
        self.plans = plans
        self.sessions = sessions
        self.auditLog = auditLog
        self.clock = clock
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.usage, use: show)
        routes.post(.usageCap, use: setCap)
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        try await render(context: context)
    }

    /// Sets the shop's own token cap (a whole number, not above the plan's limit) or clears it (an empty field).
    @Sendable func setCap(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        guard let tenant = panel.tenant else { throw HTTPError(.notFound) }
        let t = panels.texts(context)
        let typed = context.form.text("cap")
        let (budget, _) = try await plans.budget(tenantID: tenant.id, month: UsageMonth(containing: clock.now()))
        let cap: Int?
        switch TokenCap.read(typed, planLimit: budget.plan) {
        case .success(let value): cap = value
        case .failure(let problem):
            let message = (t[problem.key] ?? problem.key).replacingOccurrences(
                of: "%n", with: NumberText.format(budget.plan ?? 0, language: panel.language))
            return try await render(context: context, typed: typed, error: message, status: .unprocessableContent).response
        }
        let audit = panel.audit(
            "tenant.token_cap_changed", target: tenant.slug,
            details: ["from": budget.cap.map(String.init) ?? "-", "to": cap.map(String.init) ?? "-"])
        try await plans.database.transaction(logger: context.logger) { transaction in
            try await plans.setTokenCap(cap, tenantID: tenant.id, on: transaction)
            try await auditLog.record(audit, on: transaction)
        }
        let text =
            cap.map {
                (t["usage_cap_saved"] ?? "").replacingOccurrences(of: "%n", with: NumberText.format($0, language: panel.language))
            } ?? (t["usage_cap_cleared"] ?? "")
        try await sessions.setFlash(Flash(.success, text), sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.usage.path, type: .normal)
    }

    private func render(
        context: PanelRequestContext, typed: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let panel = context.panel
        guard let tenant = panel.tenant else { throw HTTPError(.notFound) }
        let month = UsageMonth(containing: clock.now())
        async let current = plans.budget(tenantID: tenant.id, month: month)
        async let history = plans.usage(tenantID: tenant.id, months: month.lastTwelve)
        let (budget, messageLimit) = try await current
        let page = ShopUsagePage(
            budget: budget, messageLimit: messageLimit, months: try await history, month: month, t: panels.texts(context),
            language: panel.language, typed: typed, error: error)
        return panels.page(
            "pages/plans/usage", page, context: context, title: panels.texts(context)["usage_title"] ?? "", current: .usage,
            status: status)
    }
}

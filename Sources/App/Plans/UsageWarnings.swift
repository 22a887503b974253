import Foundation
import Logging
import PostgresNIO

/// The job that e-mails a shop's owners and admins that its LLM tokens this month crossed 80 % of its limit.
public struct SendUsageWarning: JobKind {
    public static let kind = "usage.warning"
    /// `2026-12`.
    public let month: String
    public let level: Int
}

/// The 80 % warning: recorded once per shop and month (`platform.usage_warnings`) in the transaction that counted the
/// tokens which crossed it, with its job; the job writes the e-mails in the shop's agency's branding, each in its
/// recipient's language, and puts them in the outbox.
public struct UsageWarnings: Sendable {
    /// The share of the effective limit, in per cent, at which a shop is warned.
    public static let threshold = 80

    let database: Database
    let outbox: Outbox
    let renderer: Renderer
    /// The scheme and port of links to the panel (the shop's own host is added).
    let origin: Origin

    init(database: Database, outbox: Outbox, renderer: Renderer, origin: Origin) {
        self.database = database
        self.outbox = outbox
        self.renderer = renderer
        self.origin = origin
    }

    /// After tokens were counted (`total`: the month's tokens now): when they reach 80 % of the effective limit and
    /// the shop was not warned this month, records the warning and queues its job, on the caller's transaction.
    static func tokensCounted(total: Int, tenantID: UUID, on runner: any QueryRunner) async throws {
        try await runner.execute(
            """
            WITH limits AS (
                SELECT least(p.llm_tokens_per_month::int8, t.llm_token_cap) AS tokens
                FROM platform.tenants t LEFT JOIN platform.plans p ON p.id = t.plan_id WHERE t.id = \(tenantID)
            ), warned AS (
                INSERT INTO platform.usage_warnings (tenant_id, month, level)
                SELECT \(tenantID), date_trunc('month', now() AT TIME ZONE 'UTC')::date, \(threshold) FROM limits
                WHERE limits.tokens > 0 AND \(total)::int8 * 100 >= limits.tokens * \(threshold)
                ON CONFLICT DO NOTHING RETURNING month, level
            )
            INSERT INTO platform.jobs (tenant_id, kind, payload, idempotency_key)
            SELECT \(tenantID), \(SendUsageWarning.kind), jsonb_build_object('month', to_char(month, 'YYYY-MM'), 'level', level),
                'usage-warning:' || \(tenantID.uuidString.lowercased()) || ':' || to_char(month, 'YYYY-MM') || ':' || level
            FROM warned
            ON CONFLICT (idempotency_key) DO NOTHING
            """)
    }

    /// Writes the warning to each owner and admin of the shop (not disabled) and queues the messages.
    func send(_ job: SendUsageWarning, tenant: TenantRecord, host: String, logger: Logger) async throws {
        guard let month = UsageMonth(job.month) else { throw JobFailure.permanent("Not a month: \(job.month)") }
        let plans = PlanStore(database: database)
        let (budget, _) = try await plans.budget(tenantID: tenant.id, month: month)
        let recipients = try await database.values(
            (String, String?).self,
            """
            SELECT u.email, u.language FROM platform.memberships m JOIN platform.users u ON u.id = m.user_id
            WHERE m.tenant_id = \(tenant.id) AND m.role IN ('owner', 'admin') AND u.disabled_at IS NULL ORDER BY u.email
            """)
        // The agency sells the plan: its brand signs the message (the operator's for a shop of its own).
        let branding = tenant.partnerBranding
        let origin = origin.url(host: host)
        try await database.transaction(logger: logger) { transaction in
            for (email, chosen) in recipients {
                let language = chosen ?? tenant.resolvedBranding.defaultLanguage ?? Localizer.fallback
                let message = compose(
                    budget: budget, month: month, shop: tenant.name, branding: branding, origin: origin, language: language)
                try await outbox.enqueue(
                    OutgoingMail(
                        to: email, subject: message.subject, text: message.text, html: message.html, partnerID: tenant.partnerID,
                        tenantID: tenant.id, branding: branding),
                    on: transaction)
            }
        }
        logger.info("Usage warning queued", metadata: ["recipients": "\(recipients.count)", "month": "\(job.month)"])
    }

    /// The message in `language`: how much of the month's tokens the shop used, and what happens at the limit.
    func compose(
        budget: TokenBudget, month: UsageMonth, shop: String, branding: Branding, origin: String, language: String
    ) -> (subject: String, text: String, html: String) {
        let link = origin + PanelURL.usage.path
        let t = renderer.localizer.catalog(language)
        let percent = Int((budget.percent ?? 0).rounded(.down))
        let fill = { (key: String) in
            (t[key] ?? key).replacingOccurrences(of: "%site", with: shop).replacingOccurrences(of: "%percent", with: "\(percent)")
                .replacingOccurrences(of: "%used", with: NumberText.format(budget.used, language: language))
                .replacingOccurrences(of: "%limit", with: NumberText.format(budget.limit ?? 0, language: language))
                .replacingOccurrences(of: "%month", with: month.name(language: language))
                .replacingOccurrences(of: "%date", with: month.nextFirst(language: language))
        }
        let brand = BrandView(branding)
        let view = EmailView(
            lang: language, brand: brand, logoURL: brand.logoURL.map { $0.hasPrefix("/") ? origin + $0 : $0 },
            heading: fill("mail_usage_heading"), intro: fill("mail_usage_intro"), action: fill("mail_usage_action"), link: link,
            note: fill(budget.level == .paused ? "mail_usage_note_paused" : "mail_usage_note"),
            footer: (t["mail_footer"] ?? "").replacingOccurrences(of: "%brand", with: brand.name))
        return (
            fill("mail_usage_subject"), renderer.renderTemplate("emails/usage-warning-text", view),
            renderer.renderTemplate("emails/usage-warning-html", view)
        )
    }
}

import Foundation

/// The shop's usage page as its template reads it.
struct ShopUsagePage {
    struct MonthRow {
        let month: String
        let messages: String
        let calls: String
        let prompt: String
        let completion: String
        let total: String
        let current: Bool
    }

    /// A figure against its limit: "81 000" of "100 000", and the bar's value in per cent (0–100).
    struct Gauge {
        let used: String
        let limit: String
        let hasLimit: Bool
        let percent: String
        let meter: Int
        let level: String
    }

    let monthName: String
    let tokens: Gauge
    let messages: Gauge
    let planTokens: String
    let cap: String
    let hasCap: Bool
    let banner: UsageBanner?
    let rows: [MonthRow]
    // The cap form.
    let capValue: String
    let capError: String?
    let capHint: String
    let action = PanelURL.usageCap.path

    init(
        budget: TokenBudget, messageLimit: Int?, months: [UsageFigures], month: UsageMonth, t: [String: String], language: String,
        typed: String?, error: String?
    ) {
        func number(_ value: Int) -> String { NumberText.format(value, language: language) }
        let unlimited = t["plans_unlimited"] ?? "∞"
        monthName = month.name(language: language)
        let thisMonth = months.first ?? UsageFigures(month: month.text)
        tokens = Gauge(
            used: number(budget.used), limit: budget.limit.map(number) ?? unlimited, hasLimit: budget.limit != nil,
            percent: UsageBanner.percent(budget, language: language), meter: Self.meter(budget.percent),
            level: budget.level.rawValue)
        let messageBudget = TokenBudget(used: thisMonth.messages, plan: messageLimit)
        messages = Gauge(
            used: number(thisMonth.messages), limit: messageLimit.map(number) ?? unlimited, hasLimit: messageLimit != nil,
            percent: UsageBanner.percent(messageBudget, language: language), meter: Self.meter(messageBudget.percent),
            level: messageBudget.level.rawValue)
        planTokens = budget.plan.map(number) ?? unlimited
        cap = budget.cap.map(number) ?? (t["usage_cap_none"] ?? "")
        hasCap = budget.cap != nil
        banner = UsageBanner(budget, month: month, t: t, language: language, href: nil)
        rows = months.map { figures in
            MonthRow(
                month: UsageMonth(figures.month)?.name(language: language) ?? figures.month, messages: number(figures.messages),
                calls: number(figures.llmCalls), prompt: number(figures.promptTokens), completion: number(figures.completionTokens),
                total: number(figures.totalTokens), current: figures.month == month.text)
        }
        capValue = typed ?? budget.cap.map(String.init) ?? ""
        capError = error
        capHint =
            budget.plan.map { (t["usage_cap_hint"] ?? "").replacingOccurrences(of: "%n", with: number($0)) }
            ?? (t["usage_cap_hint_unlimited"] ?? "")
    }

    static func meter(_ percent: Double?) -> Int { Int(min(100, max(0, (percent ?? 0).rounded(.down)))) }
}

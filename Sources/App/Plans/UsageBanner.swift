import Foundation

/// The notice a shop's pages show about its month's LLM tokens: a warning from 80 % of the effective limit, and at the
/// limit that the model is paused until the 1st of next month while retrieval's answers go on.
struct UsageBanner: Sendable {
    let text: String
    let paused: Bool
    /// The usage page, for those who may open it.
    let href: String?

    init?(_ budget: TokenBudget, month: UsageMonth, t: [String: String], language: String, href: String?) {
        let key: String
        switch budget.level {
        case .normal: return nil
        case .warning: key = "usage_banner_warning"
        case .paused: key = "usage_banner_paused"
        }
        text = (t[key] ?? key).replacingOccurrences(of: "%percent", with: Self.percent(budget, language: language))
            .replacingOccurrences(of: "%used", with: NumberText.format(budget.used, language: language))
            .replacingOccurrences(of: "%limit", with: NumberText.format(budget.limit ?? 0, language: language))
            .replacingOccurrences(of: "%date", with: month.nextFirst(language: language))
        paused = budget.level == .paused
        self.href = href
    }

    /// "81 %" / "81%": whole per cents, rounded down so that 99.9 % is not shown as the limit.
    static func percent(_ budget: TokenBudget, language: String) -> String {
        guard let percent = budget.percent else { return "" }
        return NumberText.format(Int(percent.rounded(.down)), language: language) + (language == "en" ? "%" : "\u{202F}%")
    }
}

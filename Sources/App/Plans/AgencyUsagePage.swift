import Foundation

/// The agency's usage table as its template reads it.
struct AgencyUsagePage {
    struct Row {
        let name: String
        let slug: String
        let agency: String
        let plan: String
        let messages: String
        let calls: String
        let prompt: String
        let completion: String
        let total: String
        let limit: String
        let share: String
        let level: String
    }

    struct Totals {
        let messages: String
        let calls: String
        let prompt: String
        let completion: String
        let total: String
    }

    let rows: [Row]
    let empty: Bool
    let totals: Totals
    let monthName: String
    let months: [SelectOption]
    /// The platform's panel: which agency's shops (empty value: every shop).
    let agencies: [SelectOption]
    let showAgencies: Bool
    let showAgencyColumn: Bool
    let csvURL: String
    let action = PanelURL.shopsUsage.path

    init(
        shops: [ShopUsage], selection: AgencyUsageController.Selection, current: UsageMonth, agencies: [PartnerRecord]?,
        t: [String: String], language: String
    ) {
        func number(_ value: Int) -> String { NumberText.format(value, language: language) }
        let unlimited = t["plans_unlimited"] ?? "∞"
        rows = shops.map { shop in
            let figures = shop.figures
            return Row(
                name: shop.name, slug: shop.slug, agency: shop.agencyName ?? "", plan: shop.planName ?? (t["tenants_plan_none"] ?? ""),
                messages: number(figures.messages), calls: number(figures.llmCalls), prompt: number(figures.promptTokens),
                completion: number(figures.completionTokens), total: number(figures.totalTokens),
                limit: shop.budget.limit.map(number) ?? unlimited, share: UsageBanner.percent(shop.budget, language: language),
                level: shop.budget.level.rawValue)
        }
        empty = rows.isEmpty
        func sum(_ value: (UsageFigures) -> Int) -> String { number(shops.reduce(0) { $0 + value($1.figures) }) }
        totals = Totals(
            messages: sum(\.messages), calls: sum(\.llmCalls), prompt: sum(\.promptTokens), completion: sum(\.completionTokens),
            total: sum(\.totalTokens))
        monthName = selection.month.name(language: language)
        var choices = current.lastTwelve
        if !choices.contains(selection.month) { choices.append(selection.month) }
        months = choices.map { SelectOption(value: $0.text, label: $0.name(language: language), selected: $0 == selection.month) }
        self.agencies =
            agencies.map { list in
                [SelectOption(value: "", label: t["usage_all_agencies"] ?? "", selected: selection.agency == nil)]
                    + list.map { SelectOption(value: $0.slug, label: $0.name, selected: $0.id == selection.agency?.id) }
            } ?? []
        showAgencies = agencies != nil
        showAgencyColumn = selection.agency == nil
        var query = [("month", selection.month.text)]
        if agencies != nil, let agency = selection.agency { query.append(("agency", agency.slug)) }
        csvURL = PanelURL.shopsUsageCSV.path(query: query)
    }
}

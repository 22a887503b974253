import Foundation

/// An agency's usage table as CSV (RFC 4180, UTF-8 with a byte-order mark so spreadsheets read Cyrillic): one header
/// row, one row per shop, numbers without grouping. A text cell that a spreadsheet would read as a formula (it starts
/// with = + - @, a tab or a carriage return) is written with a leading apostrophe.
enum UsageCSV {
    static func document(_ shops: [ShopUsage], withAgency: Bool) -> String {
        var header = ["shop", "name"]
        if withAgency { header.append("agency") }
        header += [
            "plan", "messages", "llm_calls", "prompt_tokens", "completion_tokens", "total_tokens", "token_limit", "share_used_percent",
        ]
        var lines = [header.joined(separator: ",")]
        for shop in shops {
            var cells = [text(shop.slug), text(shop.name)]
            if withAgency { cells.append(text(shop.agencyName ?? "")) }
            cells.append(text(shop.planName ?? ""))
            let figures = shop.figures
            cells += [figures.messages, figures.llmCalls, figures.promptTokens, figures.completionTokens, figures.totalTokens].map {
                String($0)
            }
            cells.append(shop.budget.limit.map(String.init) ?? "")
            cells.append(shop.budget.percent.map { String(format: "%.1f", $0) } ?? "")
            lines.append(cells.joined(separator: ","))
        }
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A text cell: neutralised when it looks like a formula, quoted when it holds a comma, a quote or a line break.
    static func text(_ value: String) -> String {
        var value = value
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.unicodeScalars.contains(where: { ",\";\n\r".unicodeScalars.contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `usage-north-2026-12.csv` (`usage-all-…` for every shop of the installation).
    static func filename(agency: String?, month: UsageMonth) -> String {
        "usage-" + (agency ?? "all") + "-" + month.text + ".csv"
    }
}

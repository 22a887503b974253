import Foundation

/// A calendar month in UTC, as usage is counted (`platform.message_usage.month` is its first day): written `2026-12`.
public struct UsageMonth: Sendable, Hashable, Comparable {
    public let year: Int
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (2000...2199).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    /// `YYYY-MM`, nothing else (`2026-1`, `2026-13`, `26-01` are refused).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), let year = Int(parts[0]), let month = Int(parts[1])
        else { return nil }
        self.init(year: year, month: month)
    }

    /// The month `date` falls in (UTC).
    public init(containing date: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let parts = calendar.dateComponents([.year, .month], from: date)
        year = parts.year ?? 2026
        month = parts.month ?? 1
    }

    /// `2026-12`.
    public var text: String { String(format: "%04d-%02d", year, month) }

    /// The month's first day as SQL reads a date (`2026-12-01`).
    var firstDay: String { text + "-01" }

    /// The month `count` months before (after, when negative).
    public func back(_ count: Int) -> UsageMonth {
        let index = year * 12 + (month - 1) - count
        return UsageMonth(unchecked: index / 12, index % 12 + 1)
    }

    /// This month and the 11 before it, newest first.
    public var lastTwelve: [UsageMonth] { (0..<12).map { back($0) } }

    private init(unchecked year: Int, _ month: Int) {
        self.year = year
        self.month = month
    }

    /// "December 2026" / "декабрь 2026".
    func name(language: String) -> String {
        (language == "en" ? Self.namesEN : Self.namesRU)[month - 1] + " \(year)"
    }

    /// "1 January" / "1 января" of the month after this one: when a paused model comes back.
    func nextFirst(language: String) -> String {
        let next = back(-1)
        return language == "en" ? "1 " + DateText.monthsEN[next.month - 1] : "1 " + DateText.monthsRU[next.month - 1]
    }

    static let namesRU = [
        "январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
    ]
    static let namesEN = DateText.monthsEN

    public static func < (lhs: UsageMonth, rhs: UsageMonth) -> Bool { (lhs.year, lhs.month) < (rhs.year, rhs.month) }
}

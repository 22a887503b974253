import Foundation
import Hummingbird

/// Page-number pagination: which rows to show and the links around them.
public struct Pager: Sendable {
    let page: Int
    let pages: Int
    let previous: String?
    let next: String?
    let summary: String
    let show: Bool

    /// `link` builds the URL of a page number (keeping the page's filters).
    init(page: Int, perPage: Int, total: Int, language: String, t: [String: String], link: (Int) -> String) {
        let pages = max(1, (total + perPage - 1) / perPage)
        let page = min(max(page, 1), pages)
        self.page = page
        self.pages = pages
        previous = page > 1 ? link(page - 1) : nil
        next = page < pages ? link(page + 1) : nil
        let first = total == 0 ? 0 : (page - 1) * perPage + 1
        let last = min(total, page * perPage)
        summary = (t["pager_summary"] ?? "%1–%2 / %3")
            .replacingOccurrences(of: "%1", with: NumberText.format(first, language: language))
            .replacingOccurrences(of: "%2", with: NumberText.format(last, language: language))
            .replacingOccurrences(of: "%3", with: NumberText.format(total, language: language))
        show = pages > 1
    }

    /// The page number asked for in `?page=`.
    static func requested(_ request: Request) -> Int {
        max(1, min(100_000, Int(request.uri.queryParameters.get("page") ?? "") ?? 1))
    }
}

/// Numbers written the way the page's language writes them: 12 345 in Russian, 12,345 in English.
enum NumberText {
    static func format(_ value: Int, language: String) -> String {
        let digits = String(abs(value))
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        let separator = language == "en" ? "," : "\u{202F}"
        return (value < 0 ? "−" : "") + groups.joined(separator: separator)
    }
}

extension DateText {
    /// A date and time in Moscow time, in the page's language: "25 ноября 2026, 21:19" or "Nov 25, 2026, 21:19".
    static func dateTime(_ date: Date, language: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow") ?? .gmt
        let parts = calendar.dateComponents([.day, .month, .year, .hour, .minute], from: date)
        let time = String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
        return long(date, language: language).replacingOccurrences(of: " г.", with: "") + ", " + time
    }
}

/// Dates written out in the page's language.
enum DateText {
    static let monthsRU = [
        "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря",
    ]
    static let monthsEN = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    static func long(_ date: Date, language: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow") ?? .gmt
        let parts = calendar.dateComponents([.day, .month, .year], from: date)
        let day = parts.day ?? 1, month = (parts.month ?? 1) - 1, year = parts.year ?? 2026
        return language == "en" ? "\(monthsEN[month]) \(day), \(year)" : "\(day) \(monthsRU[month]) \(year) г."
    }
}

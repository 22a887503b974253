import Foundation

/// The inbox's list (`/admin/inbox?queue=`): the queues as tabs with their counts, a page of conversations.
struct InboxListPage {
    struct Tab {
        let label: String
        let count: String
        let url: String
        let current: Bool
        /// Someone waits: the count is shown as an alert.
        let alert: Bool
    }

    struct Row {
        let url: String
        let name: String
        let initial: String
        let channel: String
        let state: String?
        let stateClass: String
        /// "Бот: …", "Вы: …".
        let author: String?
        let snippet: String
        let time: String
        let timeISO: String
        let timeFull: String
        let assignee: String?
        /// A waiting one's clock.
        let waited: String?
        let waitingSince: Int?
        let overdue: Bool
        let csat: String?
    }

    let inboxHeader: InboxHeader
    let tabs: [Tab]
    let rows: [Row]
    let empty: Bool
    let emptyText: String
    let queue: String
    let targetWait: Int
    /// The waiting count for the navigation's badge ("" for none).
    let navBadge: String?
    let nextURL: String?
    let firstURL: String?
    let caption: String

    init(
        queue: InboxQueue, counts: [InboxQueue: Int], rows: [InboxListRow], hasMore: Bool, isFirstPage: Bool, targetWait: Int,
        user: UUID, header: InboxHeader, t: [String: String], language: String, now: Date
    ) {
        inboxHeader = header
        self.queue = queue.rawValue
        self.targetWait = targetWait
        tabs = InboxQueue.allCases.map { tab in
            let count = counts[tab] ?? 0
            return Tab(
                label: t["inbox_queue_" + tab.rawValue] ?? tab.rawValue, count: NumberText.format(count, language: language),
                url: PanelURL.inbox.path(query: tab == .waiting ? [] : [("queue", tab.rawValue)]), current: tab == queue,
                alert: tab == .waiting && count > 0)
        }
        let waiting = counts[.waiting] ?? 0
        navBadge = waiting > 0 ? NumberText.format(waiting, language: language) : nil
        self.rows = rows.map { Self.row($0, queue: queue, targetWait: targetWait, user: user, t: t, language: language, now: now) }
        empty = rows.isEmpty
        emptyText = isFirstPage ? (t["inbox_empty_" + queue.rawValue] ?? "") : (t["inbox_empty_page"] ?? "")
        let query: [(String, String)] = queue == .waiting ? [] : [("queue", queue.rawValue)]
        nextURL = hasMore ? rows.last.map { PanelURL.inbox.path(query: query + [("before", String($0.id))]) } : nil
        firstURL = isFirstPage ? nil : PanelURL.inbox.path(query: query)
        caption = t["inbox_queue_" + queue.rawValue] ?? ""
    }

    static func row(
        _ row: InboxListRow, queue: InboxQueue, targetWait: Int, user: UUID, t: [String: String], language: String, now: Date
    ) -> Row {
        let name = InboxPanel.contactName(row.contactName, email: row.contactEmail, id: row.contactID, t: t)
        var author: String?
        switch row.lastAuthor {
        case .bot: author = t["inbox_last_bot"]
        case .operator: author = row.lastAuthorID == user ? t["inbox_last_you"] : t["inbox_last_operator"]
        case .system: author = t["inbox_last_system"]
        case .shopper, nil: author = nil
        }
        let waitingSince = row.state == .waiting ? row.waitingSince : nil
        let waited = waitingSince.map { max(0, Int(now.timeIntervalSince($0))) }
        let snippet = (row.lastText ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
        return Row(
            url: PanelURL.inboxConversation(row.id).path, name: name, initial: InboxPanel.initial(name),
            channel: InboxPanel.channel(row.channel, t: t),
            state: queue == .all ? InboxPanel.state(row.state, t: t) : nil, stateClass: "inbox-state-" + row.state.rawValue,
            author: author, snippet: snippet.isEmpty ? (t["inbox_no_messages"] ?? "") : String(snippet.prefix(160)),
            time: InboxPanel.shortTime(row.lastMessageAt, now: now, language: language), timeISO: InboxPanel.iso(row.lastMessageAt),
            timeFull: DateText.dateTime(row.lastMessageAt, language: language),
            assignee: row.state == .assigned
                ? (row.assigneeID == user ? t["inbox_assignee_you"] : row.assigneeName).map {
                    (t["inbox_assignee"] ?? "%s").replacingOccurrences(of: "%s", with: $0)
                } : nil,
            waited: waited.map { InboxPanel.waited($0, t: t) }, waitingSince: waitingSince.map { Int($0.timeIntervalSince1970) },
            overdue: (waited ?? 0) > targetWait,
            csat: row.csat.map { (t["inbox_csat_short"] ?? "%n").replacingOccurrences(of: "%n", with: String($0)) })
    }
}

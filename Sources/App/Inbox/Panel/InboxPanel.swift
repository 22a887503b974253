import Foundation
import Hummingbird

/// What the inbox's panel pages share: the tenant, the conversation in the address, and how times, waits, channels
/// and people are written.
enum InboxPanel {
    static func tenant(_ context: PanelRequestContext) throws -> TenantRecord {
        guard let tenant = context.panel.tenant else { throw HTTPError(.notFound) }
        return tenant
    }

    /// The conversation or contact id in the address (`:id`).
    static func id(_ context: PanelRequestContext) throws -> Int {
        guard let id = context.parameters.get("id").flatMap(Int.init), id > 0 else { throw HTTPError(.notFound) }
        return id
    }

    /// A contact as the inbox names them: their name, else their e-mail, else "Visitor #12".
    static func contactName(_ name: String?, email: String?, id: Int, t: [String: String]) -> String {
        if let name, !name.isEmpty { return name }
        if let email, !email.isEmpty { return email }
        return (t["inbox_visitor"] ?? "#%n").replacingOccurrences(of: "%n", with: String(id))
    }

    static func channel(_ channel: ConversationChannel, t: [String: String]) -> String {
        t["inbox_channel_" + channel.rawValue] ?? channel.rawValue
    }

    static func state(_ state: ConversationState, t: [String: String]) -> String {
        t["bot_state_" + state.rawValue] ?? state.rawValue
    }

    /// "waiting 6 min": how long a shopper has waited, as the list shows it (inbox.js writes the same every 30 s).
    static func waited(_ seconds: Int, t: [String: String]) -> String {
        if seconds < 60 { return t["inbox_wait_new"] ?? "" }
        if seconds < 3600 { return (t["inbox_wait_minutes"] ?? "").replacingOccurrences(of: "%n", with: String(seconds / 60)) }
        return (t["inbox_wait_hours"] ?? "").replacingOccurrences(of: "%h", with: String(seconds / 3600))
            .replacingOccurrences(of: "%m", with: String(seconds % 3600 / 60))
    }

    static let shortMonthsRU = ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]
    static let shortMonthsEN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A time in a list, in Moscow time: "14:05" today, "5 мар" this year, "5 мар 2025" before.
    static func shortTime(_ date: Date, now: Date, language: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow") ?? .gmt
        let parts = calendar.dateComponents([.day, .month, .year, .hour, .minute], from: date)
        if calendar.isDate(date, inSameDayAs: now) { return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0) }
        let month = ((language == "en" ? shortMonthsEN : shortMonthsRU) + [""])[max(0, (parts.month ?? 1) - 1)]
        let day = language == "en" ? "\(month) \(parts.day ?? 1)" : "\(parts.day ?? 1) \(month)"
        return calendar.component(.year, from: now) == parts.year ? day : day + " \(parts.year ?? 0)"
    }

    /// A time of day in Moscow time ("14:05").
    static func clock(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow") ?? .gmt
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }

    /// An ISO 8601 timestamp for `<time datetime>`.
    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// The first letter of a name, for an avatar.
    static func initial(_ name: String) -> String {
        name.first(where: { $0.isLetter || $0.isNumber }).map { String($0).uppercased() } ?? "#"
    }
}

/// The texts inbox.js needs (the catalogue's, by `data-t-*` attributes of the inbox's root element).
struct InboxScriptTexts {
    let waitNew: String
    let waitMinutes: String
    let waitHours: String
    let typing: String
    let notifyTitle: String
    let notifyBody: String
    let pickerEmpty: String

    init(t: [String: String]) {
        waitNew = t["inbox_wait_new"] ?? ""
        waitMinutes = t["inbox_wait_minutes"] ?? ""
        waitHours = t["inbox_wait_hours"] ?? ""
        typing = t["inbox_typing"] ?? ""
        notifyTitle = t["inbox_notify_title"] ?? ""
        notifyBody = t["inbox_notify_body"] ?? ""
        pickerEmpty = t["inbox_picker_empty"] ?? ""
    }
}

/// What every inbox page shows in its header: the operator's presence toggle, the notifications button, the live
/// stream's address, the waiting count for the navigation's badge.
struct InboxHeader {
    let eventsURL = PanelURL.inboxEvents.path
    let presenceURL = PanelURL.inboxPresence.path
    let settingsURL: String?
    let script: String
    /// The operator answers here: presence is reported and the toggle is shown.
    let answers: Bool
    /// `online` or `away`.
    let presence: String
    let away: Bool
    let now: Int
    let texts: InboxScriptTexts
    /// Where the toggle sends the operator back to.
    let back: String

    init(context: PanelRequestContext, presence: PresenceStore.Status?, script: String, back: String, t: [String: String]) {
        let panel = context.panel
        answers = panel.allows(.answerInbox)
        self.presence = (presence ?? .online).rawValue
        away = presence == .away
        settingsURL = panel.allows(.manageInbox) ? PanelURL.inboxSettings.path : nil
        self.script = script
        now = Int(Date().timeIntervalSince1970)
        texts = InboxScriptTexts(t: t)
        self.back = back
    }
}

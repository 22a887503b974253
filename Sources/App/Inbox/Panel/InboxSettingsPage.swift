import Foundation

/// The inbox's settings form (`/admin/inbox/settings`): what is stored, or what was typed with a sentence beside each
/// refused field; and the widget's signed-identity secret (in full only on the answer that made it).
struct InboxSettingsPage {
    var targetWaitMinutes: String
    var autoAssign: Bool
    var capacity: String
    var retentionDays: String
    var errors: [String: String] = [:]
    var showErrors = false

    let action = PanelURL.inboxSettings.path
    let secretAction = PanelURL.inboxSecret.path
    let inboxURL = PanelURL.inbox.path
    var hasSecret = false
    /// The secret's last characters (`••••••••3f9a`).
    var maskedSecret: String?
    /// The secret in full, right after it was made.
    var newSecret: String?
    var secretError: String?
    var copyScript = ""

    init(_ settings: InboxSettings) {
        targetWaitMinutes = String(max(1, settings.targetWaitSeconds / 60))
        autoAssign = settings.autoAssign
        capacity = String(settings.operatorCapacity)
        retentionDays = settings.retentionDays.map(String.init) ?? ""
        hasSecret = settings.hasIdentitySecret
    }

    /// The form as typed.
    init(form: FormData) {
        targetWaitMinutes = form.text("target_wait_minutes")
        autoAssign = form["auto_assign"] != nil
        capacity = form.text("operator_capacity")
        retentionDays = form.text("retention_days")
    }

    /// The settings the form asks for (the secret kept as it is), or the sentences that refuse it.
    func settings(applied current: InboxSettings, t: [String: String]) -> (InboxSettings, [String: String]) {
        var settings = current
        var errors: [String: String] = [:]
        if let minutes = Int(targetWaitMinutes), (1...1440).contains(minutes) {
            settings.targetWaitSeconds = minutes * 60
        } else {
            errors["target_wait_minutes"] = t["inbox_settings_target_invalid"]
        }
        settings.autoAssign = autoAssign
        if let capacity = Int(capacity), (1...100).contains(capacity) {
            settings.operatorCapacity = capacity
        } else {
            errors["operator_capacity"] = t["inbox_settings_capacity_invalid"]
        }
        if retentionDays.isEmpty {
            settings.retentionDays = nil
        } else if let days = Int(retentionDays), (1...3650).contains(days) {
            settings.retentionDays = days
        } else {
            errors["retention_days"] = t["inbox_settings_retention_invalid"]
        }
        return (settings, errors)
    }

    /// The names of the settings that changed, for the audit entry.
    static func changes(from old: InboxSettings, to new: InboxSettings) -> [String: String] {
        var changed: [String] = []
        if old.targetWaitSeconds != new.targetWaitSeconds { changed.append("target_wait") }
        if old.autoAssign != new.autoAssign { changed.append("auto_assign") }
        if old.operatorCapacity != new.operatorCapacity { changed.append("operator_capacity") }
        if old.retentionDays != new.retentionDays { changed.append("retention_days") }
        return changed.isEmpty ? [:] : ["changed": changed.joined(separator: ", ")]
    }
}

/// Deleting a shopper's data (`/admin/inbox/contacts/<id>/delete`): who, and how much goes with them.
struct InboxContactDeletePage {
    let name: String
    let conversations: String
    let messages: String
    let action: String
    let cancelURL: String
    let conversation: String
}

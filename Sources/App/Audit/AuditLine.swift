import Foundation

/// An audit entry written out for people: "Anna changed the role of bob@… to Admin".
struct AuditLine {
    let when: String
    let actor: String
    let action: String
    let target: String?
    let details: String?
    let address: String
    let tenant: String

    init(_ record: AuditRecord, t: [String: String], language: String) {
        when = DateText.dateTime(record.at, language: language)
        actor = record.actorEmail ?? (t["audit_system"] ?? "")
        action = t["audit_" + record.action.replacingOccurrences(of: ".", with: "_")] ?? record.action
        target = record.target.isEmpty ? nil : record.target
        let details = record.details.sorted { $0.key < $1.key }.map { key, value in
            let shown = key == "role" || key == "from" || key == "to" ? (t["role_" + value] ?? value) : value
            return (t["audit_field_" + key] ?? key) + ": " + shown
        }.joined(separator: " · ")
        self.details = details.isEmpty ? nil : details
        address = record.address ?? ""
        tenant = record.tenantName ?? ""
    }
}

import Foundation

/// The rule form: a trigger (kind and text) and an action (kind and value), as typed or as stored.
struct BotRuleForm {
    var isNew: Bool
    var action: String
    var name: String
    var position: String
    var enabled: Bool
    var triggerKind: String
    var triggerText: String
    var actionKind: String
    var actionValue: String
    var errors: [String: String] = [:]
    var showErrors = false
    var deleteURL: String?
    var triggerKinds: [SelectOption] = []
    var actionKinds: [SelectOption] = []
    var templates: [String] = []
    let cancelURL = PanelURL.botRules.path

    static let triggers = ["keywords", "examples", "regex"]
    static let actions = ["reply", "show", "handoff", "set"]

    init(isNew: Bool, action: String, rule: Rule) {
        self.isNew = isNew
        self.action = action
        name = rule.name
        position = String(rule.position)
        enabled = rule.enabled
        let trigger = Self.text(of: rule.trigger)
        triggerKind = trigger.0
        triggerText = trigger.1
        let doing = Self.text(of: rule.action)
        actionKind = doing.0
        actionValue = doing.1
    }

    init(isNew: Bool, action: String, name: String?, form: FormData) {
        self.isNew = isNew
        self.action = action
        self.name = name ?? form.text("name").lowercased()
        position = form.text("position")
        enabled = form["enabled"] != nil
        triggerKind = form.text("trigger_kind")
        triggerText = form.raw("trigger_text").trimmingCharacters(in: .whitespacesAndNewlines)
        actionKind = form.text("action_kind")
        actionValue = form.text("action_value")
    }

    static func text(of trigger: Rule.Trigger) -> (String, String) {
        switch trigger {
        case .keywords(let words): ("keywords", words.joined(separator: "\n"))
        case .examples(let phrases): ("examples", phrases.joined(separator: "\n"))
        case .regex(let pattern): ("regex", pattern)
        }
    }

    static func text(of action: Rule.Action) -> (String, String) {
        switch action {
        case .reply(let template): ("reply", template)
        case .show(let slug): ("show", slug)
        case .handOff: ("handoff", "")
        case .setField(let field, let value): ("set", field + "=" + value)
        }
    }

    /// The rule, or the refused fields' sentences; `templates` are the names a reply may use.
    func rule(templates: [String], t: [String: String]) -> (Rule?, [String: String]) {
        var errors: [String: String] = [:]
        if !Slug.isValid(name) || name.count > 60 { errors["name"] = t["bot_template_invalid_name"] }
        let order = Int(position.isEmpty ? "0" : position)
        if order == nil || !(0...10000).contains(order ?? -1) { errors["position"] = t["bot_rule_invalid_position"] }
        let lines = triggerText.split(whereSeparator: { $0 == "\n" || $0 == "," && triggerKind == "keywords" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var trigger: Rule.Trigger?
        switch triggerKind {
        case "keywords": trigger = .keywords(lines)
        case "examples": trigger = .examples(triggerText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        case "regex": trigger = .regex(triggerText)
        default: errors["trigger_kind"] = t["form_invalid_choice"]
        }
        if let checked = trigger, (try? Rule.check(checked)) == nil { errors["trigger_text"] = t["bot_rule_invalid_" + triggerKind] }
        var action: Rule.Action?
        switch actionKind {
        case "reply":
            if templates.contains(actionValue) {
                action = .reply(template: actionValue)
            } else {
                errors["action_value"] = t["bot_rule_invalid_reply"]
            }
        case "show":
            if Slug.isValid(actionValue) { action = .show(slug: actionValue) } else { errors["action_value"] = t["bot_rule_invalid_show"] }
        case "handoff": action = .handOff
        case "set":
            let parts = actionValue.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, !parts[0].isEmpty, parts[0].count <= 60, parts[1].count <= 200 {
                action = .setField(parts[0], parts[1])
            } else {
                errors["action_value"] = t["bot_rule_invalid_set"]
            }
        default: errors["action_kind"] = t["form_invalid_choice"]
        }
        guard errors.isEmpty, let trigger, let action else { return (nil, errors) }
        return (Rule(name: name, position: order ?? 0, enabled: enabled, trigger: trigger, action: action), errors)
    }

    mutating func options(_ t: [String: String]) {
        triggerKinds = Self.triggers.map { SelectOption(value: $0, label: t["bot_trigger_" + $0] ?? $0, selected: $0 == triggerKind) }
        actionKinds = Self.actions.map { SelectOption(value: $0, label: t["bot_action_" + $0] ?? $0, selected: $0 == actionKind) }
        showErrors = !errors.isEmpty
    }
}

import Foundation
import Yams

/// A bot's messenger as `tenants.yml` declares it (`bot: {channels: {telegram:, whatsapp:, alice:}}`): its settings, and
/// the names of the environment variables holding its secrets (never the secrets themselves).
public struct ChannelSpec: Sendable, Equatable {
    public var kind: ChannelKind
    public var path: String
    /// Telegram's bot token; WhatsApp's access token.
    public var tokenEnv: String?
    /// WhatsApp's app secret.
    public var appSecretEnv: String?
    public var phoneNumberID: String?
    public var skillID: String?
    public var dropPendingUpdates = false
    public var handoffContact: String?
    public var templates: [WhatsAppTemplate]?

    /// The variables it names, with what each holds (for the message when one is not set).
    var variables: [(key: String, name: String, holds: String)] {
        var list: [(String, String, String)] = []
        if let tokenEnv { list.append(("token_env", tokenEnv, kind == .telegram ? "the Telegram bot token" : "the WhatsApp access token")) }
        if let appSecretEnv { list.append(("app_secret_env", appSecretEnv, "the WhatsApp app secret")) }
        return list
    }
}

extension ManifestParser {
    /// `channels: {telegram: {token_env, drop_pending_updates}, whatsapp: {phone_number_id, token_env, app_secret_env,
    /// templates: [{name, language, text}], handoff_contact}, alice: {skill_id, handoff_contact}}`.
    mutating func channels(_ node: Node, path: String) -> [ChannelSpec] {
        guard let map = mapping(node, path: path, allowed: Set(ChannelKind.allCases.map(\.rawValue))) else { return [] }
        return ChannelKind.allCases.compactMap { kind in
            map[kind.rawValue].flatMap { channel($0, kind: kind, path: path + "." + kind.rawValue) }
        }
    }

    private mutating func channel(_ node: Node, kind: ChannelKind, path: String) -> ChannelSpec? {
        let allowed: Set<String> =
            switch kind {
            case .telegram: ["token_env", "drop_pending_updates"]
            case .whatsapp: ["phone_number_id", "token_env", "app_secret_env", "templates", "handoff_contact"]
            case .alice: ["skill_id", "handoff_contact"]
            }
        guard let map = mapping(node, path: path, allowed: allowed) else { return nil }
        var spec = ChannelSpec(kind: kind, path: path)
        for key in ["token_env", "app_secret_env"] where allowed.contains(key) {
            guard let value = map[key] else {
                report(node, path, "\(key) is required: the name of the environment variable holding the secret")
                continue
            }
            guard let name = string(value, path: path + "." + key) else { continue }
            guard name.range(of: "^[A-Za-z_][A-Za-z0-9_]{0,99}$", options: .regularExpression) != nil else {
                report(value, path + "." + key, "must be the name of an environment variable")
                continue
            }
            if key == "token_env" { spec.tokenEnv = name } else { spec.appSecretEnv = name }
        }
        if let value = map["drop_pending_updates"] {
            spec.dropPendingUpdates = boolean(value, path: path + ".drop_pending_updates") ?? false
        }
        if let value = map["handoff_contact"], let text = string(value, path: path + ".handoff_contact") {
            if let problem = ChannelInput.check(handoffContact: text) { report(value, path + ".handoff_contact", problem.description) }
            spec.handoffContact = text
        }
        if kind == .whatsapp {
            if let value = map["phone_number_id"] {
                // Written plain, a phone number id is a YAML number: its digits are what counts.
                if case .scalar(let scalar) = value, scalar.string.wholeMatch(of: /[0-9]{5,30}/) != nil {
                    spec.phoneNumberID = scalar.string
                } else {
                    report(value, path + ".phone_number_id", "must be the phone number ID from Meta's WhatsApp settings (digits)")
                }
            } else {
                report(node, path, "phone_number_id is required")
            }
            if let value = map["templates"] { spec.templates = templates(value, path: path + ".templates") }
        }
        if kind == .alice {
            if let value = map["skill_id"], let text = string(value, path: path + ".skill_id") {
                if UUID(uuidString: text) == nil {
                    report(value, path + ".skill_id", "must be the skill's ID (a UUID) from its settings in Yandex Dialogs")
                }
                spec.skillID = text.lowercased()
            } else if map["skill_id"] == nil {
                report(node, path, "skill_id is required")
            }
        }
        return spec
    }

    private mutating func templates(_ node: Node, path: String) -> [WhatsAppTemplate] {
        guard let items = sequence(node, path: path) else { return [] }
        var list: [WhatsAppTemplate] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let fields = mapping(item, path: itemPath, allowed: ["name", "language", "text"]),
                let name = requiredString(fields, "name", path: itemPath, node: item, maxLength: 512),
                let language = requiredString(fields, "language", path: itemPath, node: item, maxLength: 10),
                let text = requiredString(fields, "text", path: itemPath, node: item, maxLength: 1024)
            else { continue }
            list.append(WhatsAppTemplate(name: name, language: language, text: text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        if let problem = ChannelInput.check(templates: list) { report(node, path, problem.description) }
        return list
    }
}

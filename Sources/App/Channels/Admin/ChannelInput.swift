import Foundation

/// What the panel, the API and `tenants.yml` check before the connector does (WhatsApp's templates, the hand-off
/// contact), where a connector's refusal belongs on a form, and what the audit log and the lists say of a connection.
enum ChannelInput {
    /// At most this many approved templates per WhatsApp connection.
    static let maxTemplates = 20

    /// The templates as Meta names them: lower-case letters, digits and `_`; a language code such as `ru` or `en_US`;
    /// a text of at most 1,024 characters.
    static func check(templates: [WhatsAppTemplate]) -> ChannelConnectionError? {
        if templates.count > maxTemplates {
            return ChannelConnectionError("whatsapp_templates", "At most \(maxTemplates) templates.")
        }
        for template in templates {
            guard template.name.wholeMatch(of: /[a-z0-9_]{1,512}/) != nil else {
                return ChannelConnectionError(
                    "whatsapp_template_name", "A template's name is as in Meta's settings: lower-case letters, digits and _.")
            }
            guard template.language.wholeMatch(of: /[a-z]{2,3}(_[A-Za-z]{2,4})?/) != nil else {
                return ChannelConnectionError("whatsapp_template_language", "A template's language is a code such as ru or en_US.")
            }
            guard !template.text.isEmpty, template.text.databaseLength <= 1024 else {
                return ChannelConnectionError("whatsapp_template_text", "A template's text is 1 to 1,024 characters, as approved.")
            }
        }
        if Set(templates.map { $0.name + "/" + $0.language }).count != templates.count {
            return ChannelConnectionError("whatsapp_template_twice", "A template appears twice with the same language.")
        }
        return nil
    }

    /// How a shopper reaches a person, said on a voice hand-off: at most 200 characters.
    static func check(handoffContact: String?) -> ChannelConnectionError? {
        guard let handoffContact, handoffContact.databaseLength > 200 else { return nil }
        return ChannelConnectionError("handoff_contact", "The hand-off contact is at most 200 characters.")
    }

    /// Both checks of a request.
    static func check(_ request: ChannelConnector.Request) -> ChannelConnectionError? {
        if let problem = check(handoffContact: request.handoffContact) { return problem }
        if let templates = request.templates, let problem = check(templates: templates) { return problem }
        return nil
    }

    /// The field (of the form and of the API's body) a refusal is about.
    static func field(of error: ChannelConnectionError) -> String {
        switch error.key {
        case "telegram_token", "whatsapp_token": "token"
        case "whatsapp_phone": "phone_number_id"
        case "whatsapp_secret": "app_secret"
        case "alice_skill": "skill_id"
        case "handoff_contact": "handoff_contact"
        case let key where key.hasPrefix("whatsapp_template"): "templates"
        default: "form"
        }
    }

    /// What the connection is called at its provider: the Telegram bot's @name, the WhatsApp number (or its id), the
    /// skill's id.
    static func name(of connection: ChannelConnection) -> String? {
        switch connection.kind {
        case .telegram: connection.settings.username.map { "@" + $0 }
        case .whatsapp: connection.settings.displayPhoneNumber ?? connection.settings.phoneNumberID
        case .alice: connection.settings.skillID
        }
    }

    /// The audit entry's details: the kind, the outcome and the name; never a secret.
    static func auditDetails(_ connection: ChannelConnection) -> [String: String] {
        var details = ["kind": connection.kind.rawValue, "status": connection.status.rawValue]
        if let name = name(of: connection) { details["name"] = name }
        if let detail = connection.statusDetail { details["detail"] = String(detail.prefix(300)) }
        return details
    }
}

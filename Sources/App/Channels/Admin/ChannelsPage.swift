import Foundation

/// The bot's messengers (`/admin/bot/channels?bot=<slug>`): a card per kind with its status and its form.
struct ChannelsPage {
    struct BotLink {
        let name: String
        let url: String
        let current: Bool
    }

    var slug = ""
    var botName = ""
    var bots: [BotLink] = []
    var hasSeveral = false
    var telegram: ChannelCard
    var whatsapp: ChannelCard
    var alice: ChannelCard
    var copyScript = ""
    var settingsURL = ""

    subscript(kind: ChannelKind) -> ChannelCard {
        get {
            switch kind {
            case .telegram: telegram
            case .whatsapp: whatsapp
            case .alice: alice
            }
        }
        set {
            switch kind {
            case .telegram: telegram = newValue
            case .whatsapp: whatsapp = newValue
            case .alice: alice = newValue
            }
        }
    }
}

/// One messenger's card: its status, the values stored (secrets only masked) or typed, and a sentence by each refused
/// field. The template sees stored properties only.
struct ChannelCard {
    struct TemplateRow {
        let index: Int
        let name: String
        let language: String
        let text: String
    }

    var kind: String
    var exists = false
    var statusText = ""
    var statusClass = ""
    var action = ""
    var disconnectAction = ""
    var errors: [String: String] = [:]
    var webhookURL: String?
    // Telegram
    var tokenMask: String?
    var dropPendingUpdates = false
    var username: String?
    var usernameURL: String?
    // WhatsApp
    var phoneNumberID = ""
    var displayPhoneNumber: String?
    var appSecretMask: String?
    var verifyToken: String?
    var templates: [TemplateRow] = []
    // Alice
    var skillID = ""
    // WhatsApp and Alice
    var handoffContact = ""

    /// The card of a kind with what is stored (nil: not connected).
    init(_ kind: ChannelKind, stored: ChannelConnection?, webhookURL: String?, t: [String: String]) {
        self.kind = kind.rawValue
        guard let stored else {
            statusText = t["channels_status_none"] ?? ""
            statusClass = "status-none"
            return
        }
        exists = true
        self.webhookURL = webhookURL
        statusClass = "status-" + stored.status.rawValue
        switch stored.status {
        case .pending: statusText = t["channels_status_pending"] ?? ""
        case .failed:
            statusText = (t["channels_status_failed"] ?? "").replacingOccurrences(
                of: "%detail", with: stored.statusKey.flatMap { t["channels_refused_" + $0] } ?? stored.statusDetail ?? "")
        case .active:
            // Alice's name is its skill id, shown in its field: a long UUID would not fit a badge on a phone.
            if kind != .alice, let name = ChannelInput.name(of: stored) {
                statusText = (t["channels_status_active_as"] ?? "").replacingOccurrences(of: "%name", with: name)
            } else {
                statusText = t["channels_status_active"] ?? ""
            }
        }
        let settings = stored.settings
        tokenMask = ChannelSecrets.masked(stored.secrets.token)
        dropPendingUpdates = settings.dropPendingUpdates ?? false
        if kind == .telegram, let name = settings.username, stored.status == .active {
            username = "@" + name
            // Telegram names are letters, digits and `_`: anything else is not put in the link.
            usernameURL =
                "https://t.me/"
                + String(name.unicodeScalars.filter { $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) })
        }
        phoneNumberID = settings.phoneNumberID ?? ""
        displayPhoneNumber = settings.displayPhoneNumber
        appSecretMask = ChannelSecrets.masked(stored.secrets.appSecret)
        if kind == .whatsapp { verifyToken = stored.secrets.webhookSecret }
        templates = (settings.templates ?? []).enumerated().map {
            TemplateRow(index: $0.offset, name: $0.element.name, language: $0.element.language, text: $0.element.text)
        }
        skillID = settings.skillID ?? ""
        handoffContact = settings.handoffContact ?? ""
    }

    /// What the form asks for: the request to the connector (a blank secret keeps the stored one).
    static func request(_ kind: ChannelKind, form: FormData) -> ChannelConnector.Request {
        var request = ChannelConnector.Request(kind: kind)
        request.token = form.raw("token").trimmingCharacters(in: .whitespacesAndNewlines)
        switch kind {
        case .telegram:
            request.dropPendingUpdates = form["drop_pending_updates"] != nil
        case .whatsapp:
            request.phoneNumberID = form.text("phone_number_id")
            request.appSecret = form.raw("app_secret").trimmingCharacters(in: .whitespacesAndNewlines)
            request.templates = templates(form)
            request.handoffContact = form.text("handoff_contact")
        case .alice:
            request.skillID = form.text("skill_id")
            request.handoffContact = form.text("handoff_contact")
        }
        return request
    }

    /// The template rows typed (`template_name_<n>`, `template_language_<n>`, `template_text_<n>`), blank rows left out.
    static func templates(_ form: FormData) -> [WhatsAppTemplate] {
        (0..<ChannelInput.maxTemplates + 5).compactMap { index in
            let name = form.text("template_name_\(index)")
            let language = form.text("template_language_\(index)")
            let text = form.raw("template_text_\(index)").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !(name + language + text).isEmpty else { return nil }
            return WhatsAppTemplate(name: name, language: language, text: text)
        }
    }

    /// The card again with what was typed (never the secrets).
    mutating func keep(_ request: ChannelConnector.Request) {
        dropPendingUpdates = request.dropPendingUpdates
        phoneNumberID = request.phoneNumberID ?? phoneNumberID
        skillID = request.skillID ?? skillID
        handoffContact = request.handoffContact ?? handoffContact
        if let typed = request.templates {
            templates = typed.enumerated().map {
                TemplateRow(index: $0.offset, name: $0.element.name, language: $0.element.language, text: $0.element.text)
            }
        }
    }

    /// The forms' addresses, and two blank template rows to fill in (three when there are none).
    mutating func finish(slug: String) {
        action = PanelURL.botChannel(kind).path(query: [("bot", slug)])
        disconnectAction = PanelURL.botChannelDisconnect(kind).path(query: [("bot", slug)])
        let rows = min(ChannelInput.maxTemplates, max(3, templates.count + 2))
        for index in templates.count..<max(templates.count, rows) {
            templates.append(TemplateRow(index: index, name: "", language: "", text: ""))
        }
    }
}

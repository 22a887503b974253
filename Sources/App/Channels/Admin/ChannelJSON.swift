import Foundation

/// A connection as the API shows it: its settings, its status, the addresses to paste at the provider; the secrets
/// only masked (`••••abcd`), WhatsApp's verify token whole (it is meant to be pasted into Meta's settings).
struct ChannelJSON: Encodable {
    let connection: ChannelConnection
    let webhookURL: String

    enum CodingKeys: String, CodingKey {
        case kind, status, username, templates
        case statusDetail = "status_detail"
        case webhookURL = "webhook_url"
        case verifyToken = "verify_token"
        case tokenMasked = "token_masked"
        case appSecretMasked = "app_secret_masked"
        case phoneNumberID = "phone_number_id"
        case displayPhoneNumber = "display_phone_number"
        case dropPendingUpdates = "drop_pending_updates"
        case skillID = "skill_id"
        case handoffContact = "handoff_contact"
        case lastInboundAt = "last_inbound_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let settings = connection.settings
        let kind = connection.kind
        try container.encode(kind.rawValue, forKey: .kind)
        try container.encode(connection.status.rawValue, forKey: .status)
        try container.encode(connection.statusDetail, forKey: .statusDetail)
        try container.encode(webhookURL, forKey: .webhookURL)
        try container.encode(connection.updatedAt, forKey: .updatedAt)
        try container.encode(connection.lastInboundAt, forKey: .lastInboundAt)
        try container.encode(settings.handoffContact, forKey: .handoffContact)
        switch kind {
        case .telegram:
            try container.encode(ChannelSecrets.masked(connection.secrets.token), forKey: .tokenMasked)
            try container.encode(settings.username, forKey: .username)
            try container.encode(settings.dropPendingUpdates ?? false, forKey: .dropPendingUpdates)
        case .whatsapp:
            try container.encode(ChannelSecrets.masked(connection.secrets.token), forKey: .tokenMasked)
            try container.encode(ChannelSecrets.masked(connection.secrets.appSecret), forKey: .appSecretMasked)
            try container.encode(connection.secrets.webhookSecret, forKey: .verifyToken)
            try container.encode(settings.phoneNumberID, forKey: .phoneNumberID)
            try container.encode(settings.displayPhoneNumber, forKey: .displayPhoneNumber)
            try container.encode(settings.templates ?? [], forKey: .templates)
        case .alice:
            try container.encode(settings.skillID, forKey: .skillID)
        }
    }
}

struct ChannelListJSON: Encodable {
    let items: [ChannelJSON]
}

/// `PUT /api/v1/bots/{slug}/channels/{kind}`'s body: what the kind takes; a secret left out keeps the stored one.
struct ChannelChangeJSON: Decodable, Sendable {
    var token: String?
    var phoneNumberID: String?
    var appSecret: String?
    var skillID: String?
    var dropPendingUpdates: Bool?
    /// `null` clears it; absent keeps it.
    var handoffContact: String??
    var templates: [WhatsAppTemplate]?
    var unknown: [String] = []

    static let fields: Set<String> = [
        "token", "phone_number_id", "app_secret", "skill_id", "drop_pending_updates", "handoff_contact", "templates",
    ]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        unknown = container.unknown(Self.fields)
        token = try container.optional(String.self, "token")
        phoneNumberID = try container.optional(String.self, "phone_number_id")
        appSecret = try container.optional(String.self, "app_secret")
        skillID = try container.optional(String.self, "skill_id")
        dropPendingUpdates = try container.optional(Bool.self, "drop_pending_updates")
        handoffContact = try container.nullable(String.self, "handoff_contact")
        templates = try container.optional([WhatsAppTemplate].self, "templates")
    }

    /// The connector's request; fields another kind takes are refused by name.
    func request(_ kind: ChannelKind) throws -> ChannelConnector.Request {
        let given: [(String, Bool)] = [
            ("token", token != nil), ("phone_number_id", phoneNumberID != nil), ("app_secret", appSecret != nil),
            ("skill_id", skillID != nil), ("drop_pending_updates", dropPendingUpdates != nil), ("templates", templates != nil),
            ("handoff_contact", handoffContact != nil),
        ]
        let allowed: Set<String> =
            switch kind {
            case .telegram: ["token", "drop_pending_updates"]
            case .whatsapp: ["token", "phone_number_id", "app_secret", "templates", "handoff_contact"]
            case .alice: ["skill_id", "handoff_contact"]
            }
        let foreign = given.filter { $0.1 && !allowed.contains($0.0) }.map(\.0)
        if !foreign.isEmpty {
            throw APIError.validation(foreign.map { FieldProblem(field: $0, message: "Not a setting of \(kind.rawValue).") })
        }
        // Lengths as sent; then no control characters (PostgreSQL refuses NUL in text and jsonb: that was a 500).
        if let contact = handoffContact ?? nil, contact.databaseLength > 200 {
            throw APIError.validation([FieldProblem(field: "handoff_contact", message: "At most 200 characters.")])
        }
        let templates = templates?.map {
            WhatsAppTemplate(name: $0.name, language: $0.language, text: $0.text.withoutControlCharacters)
        }
        return ChannelConnector.Request(
            kind: kind, token: token, appSecret: appSecret, phoneNumberID: phoneNumberID, skillID: skillID,
            dropPendingUpdates: dropPendingUpdates ?? false, handoffContact: handoffContact.map { ($0 ?? "").apiText }, templates: templates
        )
    }
}

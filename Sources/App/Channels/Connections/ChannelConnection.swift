import Foundation
import PostgresNIO

/// A bot's connection to a messenger (`channel_connections`), its secrets opened.
public struct ChannelConnection: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Saved, not yet set up at the provider (its `channel.connect` job will).
        case pending
        case active
        /// The provider refused the set-up or the token: `statusDetail` says why.
        case failed
    }

    public var id: Int
    public var botID: Int
    public var kind: ChannelKind
    /// The unguessable part of the webhook's path: `/hooks/<kind>/<key>`.
    public var webhookKey: String
    public var status: Status
    /// Why it failed, as a sentence (the provider's words where it gave some).
    public var statusDetail: String?
    /// The failure's kind, for a sentence in the reader's language (`channels_refused_<key>`): `telegram_token`,
    /// `whatsapp_token`, `unreachable`, `revoked`, ...
    public var statusKey: String?
    public var settings: ChannelSettings
    public var secrets: ChannelSecrets
    public var lastInboundAt: Date?
    public var updatedAt: Date

    /// `status_detail` as stored: `[key] sentence`.
    static func storedDetail(key: String?, _ sentence: String?) -> String? {
        guard let sentence else { return nil }
        return String(((key.map { "[\($0)] " } ?? "") + sentence).prefix(2000))
    }

    /// The key and the sentence of a stored `status_detail`.
    static func parseDetail(_ stored: String?) -> (key: String?, sentence: String?) {
        guard let stored else { return (nil, nil) }
        guard stored.hasPrefix("["), let close = stored.firstIndex(of: "]") else { return (nil, stored) }
        let key = String(stored[stored.index(after: stored.startIndex)..<close])
        return (key, stored[stored.index(after: close)...].trimmingCharacters(in: .whitespaces))
    }

    /// The webhook's path on the shop's hosts.
    public var webhookPath: String { ChannelConnection.webhookPath(kind: kind, key: webhookKey) }

    public static func webhookPath(kind: ChannelKind, key: String) -> String { "/hooks/\(kind.rawValue)/\(key)" }

    /// A new webhook key: 160 random bits in lowercase base32.
    public static func newWebhookKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        return String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt8(32)))] })
    }

    /// A new secret for the provider to send back (Telegram's `secret_token`, WhatsApp's verify token): 256 bits in
    /// `A-Za-z0-9_-`, as Telegram allows.
    public static func newWebhookSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<43).map { _ in alphabet[Int(generator.next(upperBound: UInt8(64)))] })
    }
}

/// What a connection keeps that is not secret: shown in the panel and the API, exported.
public struct ChannelSettings: Sendable, Codable, Equatable {
    /// Telegram: the bot's @name and user id, from `getMe`.
    public var username: String?
    public var botUserID: Int64?
    /// Telegram: whether updates sent while the bot was not connected are dropped at `setWebhook`.
    public var dropPendingUpdates: Bool?
    /// WhatsApp: the phone number's id in Meta's settings (where messages are sent from) and the number as shown.
    public var phoneNumberID: String?
    public var displayPhoneNumber: String?
    /// WhatsApp: the approved templates an operator may send outside the 24-hour window.
    public var templates: [WhatsAppTemplate]?
    /// Alice: the skill's id (every request names it).
    public var skillID: String?
    /// Voice channels: how a shopper reaches a person (the shop's phone or chat), said when the bot hands off.
    public var handoffContact: String?

    public init(
        username: String? = nil, botUserID: Int64? = nil, dropPendingUpdates: Bool? = nil, phoneNumberID: String? = nil,
        displayPhoneNumber: String? = nil, templates: [WhatsAppTemplate]? = nil, skillID: String? = nil, handoffContact: String? = nil
    ) {
        self.username = username
        self.botUserID = botUserID
        self.dropPendingUpdates = dropPendingUpdates
        self.phoneNumberID = phoneNumberID
        self.displayPhoneNumber = displayPhoneNumber
        self.templates = templates
        self.skillID = skillID
        self.handoffContact = handoffContact
    }

    enum CodingKeys: String, CodingKey {
        case username, templates
        case botUserID = "bot_user_id"
        case dropPendingUpdates = "drop_pending_updates"
        case phoneNumberID = "phone_number_id"
        case displayPhoneNumber = "display_phone_number"
        case skillID = "skill_id"
        case handoffContact = "handoff_contact"
    }
}

/// A connection's secrets, sealed together (`channel_connections.secrets`): never shown whole, never logged.
public struct ChannelSecrets: Sendable, Codable, Equatable {
    /// Telegram's bot token; WhatsApp's access token.
    public var token: String?
    /// WhatsApp's app secret (the key of `X-Hub-Signature-256`).
    public var appSecret: String?
    /// What the provider sends back to prove itself: Telegram's `secret_token`, WhatsApp's verify token.
    public var webhookSecret: String?

    public init(token: String? = nil, appSecret: String? = nil, webhookSecret: String? = nil) {
        self.token = token
        self.appSecret = appSecret
        self.webhookSecret = webhookSecret
    }

    enum CodingKeys: String, CodingKey {
        case token
        case appSecret = "app_secret"
        case webhookSecret = "webhook_secret"
    }

    /// The last four characters, for the panel: `••••abcd`.
    public static func masked(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return "••••" + String(value.suffix(4))
    }
}

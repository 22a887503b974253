import Foundation

/// The messengers a bot can be connected to (a connection per bot and kind).
public enum ChannelKind: String, Sendable, Codable, CaseIterable {
    case telegram, whatsapp, alice

    /// The conversations' channel of this kind's shoppers.
    public var conversationChannel: ConversationChannel {
        switch self {
        case .telegram: .telegram
        case .whatsapp: .whatsapp
        case .alice: .alice
        }
    }
}

/// What one provider request said, in the channels' common terms: the webhook controllers turn their provider's
/// payload into these, and nothing past them knows the provider's shapes.
public enum InboundEvent: Sendable, Equatable {
    /// A shopper wrote (or pressed a button, or edited a message).
    case message(InboundMessage)
    /// The provider reports what became of one of our messages (WhatsApp's statuses).
    case delivery(DeliveryReport)
    /// Something the bot does not act on (a group chat, a reaction, a kind of update not asked for): why, for the log.
    case ignored(String)
}

/// A shopper's message as a messenger delivered it.
public struct InboundMessage: Sendable, Equatable {
    /// The channel's id of the message, unique per channel: the dedupe key. Telegram `<connection id>:<update_id>`,
    /// WhatsApp the `wamid…` id, Alice `<session_id>:<message_id>`.
    public var dedupeKey: String
    /// The shopper's address on the channel, where replies go: Telegram's chat id (a private chat's id is the user's),
    /// WhatsApp's `wa_id`, Alice's user id (else the application id).
    public var chat: String
    /// The shopper's name as the channel knows it (Telegram's first and last name, WhatsApp's profile name).
    public var contactName: String?
    /// What the shopper wrote; a button's title or payload when one was pressed; a caption; "" for a bare attachment.
    public var text: String
    /// Photos, documents, voice notes, kept with the message.
    public var attachments: [Attachment] = []
    /// Telegram's `/start <payload>`: the payload ("" for a bare `/start`); the text is then "/start …".
    public var start: String?
    /// The shopper edited an earlier message: this is its new text.
    public var edited = false
    /// Telegram's `callback_query` id: acknowledged in the webhook's answer so the button stops spinning.
    public var callbackQueryID: String?

    public init(
        dedupeKey: String, chat: String, contactName: String? = nil, text: String, attachments: [Attachment] = [], start: String? = nil,
        edited: Bool = false, callbackQueryID: String? = nil
    ) {
        self.dedupeKey = dedupeKey
        self.chat = chat
        self.contactName = contactName
        self.text = text
        self.attachments = attachments
        self.start = start
        self.edited = edited
        self.callbackQueryID = callbackQueryID
    }

    /// The voice note to transcribe, if the message is one.
    public var voice: Attachment? { attachments.first { $0.kind == .voice } }
}

/// A file a shopper sent, as the provider names it (the bytes stay with the provider until someone asks for them).
public struct Attachment: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case photo, document, voice, audio, video, sticker
    }

    public var kind: Kind
    /// The provider's id of the file: Telegram's `file_id`, WhatsApp's media id.
    public var file: String
    /// A document's file name.
    public var name: String?
    public var mime: String?
    /// A voice note's or a video's length.
    public var seconds: Int?
    /// Bytes, when the provider says.
    public var size: Int?

    public init(kind: Kind, file: String, name: String? = nil, mime: String? = nil, seconds: Int? = nil, size: Int? = nil) {
        self.kind = kind
        self.file = file
        self.name = name
        self.mime = mime
        self.seconds = seconds
        self.size = size
    }
}

/// What a provider reports about an outbound message.
public struct DeliveryReport: Sendable, Equatable {
    /// The provider's id of our message (what `SendOutcome.sent` returned).
    public var channelMessageID: String
    public var state: DeliveryState
    /// Why it failed, as the provider put it.
    public var error: String?

    public init(channelMessageID: String, state: DeliveryState, error: String? = nil) {
        self.channelMessageID = channelMessageID
        self.state = state
        self.error = error
    }
}

/// An outbound message's delivery state (`messages.delivery`); it only moves forward, `failed` aside.
public enum DeliveryState: String, Sendable, Codable, Comparable {
    case queued, sent, delivered, read, failed

    var rank: Int {
        switch self {
        case .queued: 0
        case .sent: 1
        case .delivered: 2
        case .read: 3
        case .failed: 4
        }
    }

    public static func < (a: DeliveryState, b: DeliveryState) -> Bool { a.rank < b.rank }
}

/// A bot's or an operator's message on its way to a messenger.
public struct OutboundMessage: Sendable, Equatable {
    public var text: String
    /// Quick replies (`button`) and links (`link`), rendered as the channel can: Telegram's inline keyboard, WhatsApp's
    /// reply buttons or list.
    public var parts: [MessagePart]
    /// WhatsApp outside the 24-hour window: the approved template the operator picked.
    public var template: WhatsAppTemplate?
    public var language: BotLanguage

    public init(text: String, parts: [MessagePart] = [], template: WhatsAppTemplate? = nil, language: BotLanguage = .ru) {
        self.text = text
        self.parts = parts
        self.template = template
        self.language = language
    }
}

/// What became of one send.
public enum SendOutcome: Sendable, Equatable {
    /// The provider took it: its ids of the message (a long text goes as several).
    case sent([String])
    /// Worth another try: a network error, a 5xx, a 429 (after `after` when the provider said how long).
    case retry(after: Duration?, reason: String)
    /// Retrying cannot help: the user blocked the bot, the chat is gone, the window is closed, the token was revoked.
    case refused(DeliveryRefusal)
}

/// Why a provider refused a message for good: a sentence for the inbox (`channel_refused_<kind>` in the locales) and
/// the provider's own words.
public struct DeliveryRefusal: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The shopper blocked the bot (Telegram 403) or the number cannot receive messages.
        case blocked
        /// The chat or the recipient does not exist.
        case notFound = "not_found"
        /// WhatsApp: more than 24 hours since the shopper's last message; only a template may go.
        case windowClosed = "window_closed"
        /// The connection's token or secret is no longer accepted: the shop must reconnect.
        case unauthorized
        /// The provider refused the message itself (too long, a bad button).
        case invalid
        /// Every try failed (the provider was down or kept asking to wait) until the job ran out of attempts.
        case unreachable
    }

    public var kind: Kind
    /// The provider's description, kept for the inbox's details.
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = String(detail.prefix(500))
    }

    /// As `messages.delivery_error` stores it: `<kind>: <detail>`.
    public var description: String { kind.rawValue + ": " + detail }
}

/// A WhatsApp message template the shop had approved in Meta's settings, as the operator picks it.
public struct WhatsAppTemplate: Sendable, Codable, Equatable {
    /// The template's name in Meta's settings.
    public var name: String
    /// Its language code there (`ru`, `en_US`).
    public var language: String
    /// Its text, for the operator to read before sending (placeholders such as {{1}} are not filled).
    public var text: String

    public init(name: String, language: String, text: String) {
        self.name = name
        self.language = language
        self.text = text
    }
}

/// A messenger's API as the connector and the delivery job use it (Telegram's and WhatsApp's clients; Alice answers in
/// its webhook's response and has none). Sending never throws: every outcome is a value the job records.
public protocol MessengerClient: Sendable {
    /// Sends one message to one chat. A long text goes as several messages: `sent` holds the provider's ids of those an
    /// earlier try sent, which are skipped, and each one the provider takes now is added to it as it goes (a try that
    /// fails half-way leaves the job what to store, so the shopper never reads a part twice).
    func send(
        _ message: OutboundMessage, to chat: String, over connection: ChannelConnection, sent: inout [String]
    ) async
        -> SendOutcome
    /// The bytes of a file a shopper sent (a voice note to transcribe), at most `limit` bytes.
    func download(_ attachment: Attachment, over connection: ChannelConnection, limit: Int) async throws -> (bytes: [UInt8], mime: String?)
    /// Checks the credentials and sets the connection up at the provider so that updates reach `webhookURL`; returns the
    /// settings with what the provider told (Telegram's bot @name). Throws `ChannelConnectionError` with a sentence.
    func setUp(_ connection: ChannelConnection, webhookURL: String) async throws -> ChannelSettings
    /// Undoes the set-up (Telegram's `deleteWebhook`); callers go on if it fails.
    func tearDown(_ connection: ChannelConnection) async throws
}

extension MessengerClient {
    /// Sends a message afresh (no part of it has gone before).
    public func send(_ message: OutboundMessage, to chat: String, over connection: ChannelConnection) async -> SendOutcome {
        var sent: [String] = []
        return await send(message, to: chat, over: connection, sent: &sent)
    }
}

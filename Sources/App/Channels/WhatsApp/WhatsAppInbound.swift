import Foundation

/// A webhook body that is not Meta's JSON: the controller answers 400 with the sentence.
public struct WhatsAppInboundError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// Meta's webhook POSTs in the channels' terms. One POST may carry several entries, each several changes, each several
/// messages and statuses; a change for another phone number of the same business account is ignored.
public enum WhatsAppInbound {
    /// The events `body` carries for the connection of `phoneNumberID`, in order. Throws `WhatsAppInboundError` for a
    /// body that is not the webhook's JSON.
    public static func parse(_ body: [UInt8], phoneNumberID: String) throws -> [InboundEvent] {
        let payload: WebhookPayload
        do {
            payload = try JSONDecoder().decode(WebhookPayload.self, from: Data(body))
        } catch {
            throw WhatsAppInboundError("The body is not a WhatsApp webhook's JSON.")
        }
        var events: [InboundEvent] = []
        for entry in payload.entry ?? [] {
            for change in entry.changes ?? [] {
                guard change.field == "messages", let value = change.value else {
                    events.append(.ignored("a change of field \(change.field ?? "none")"))
                    continue
                }
                guard value.metadata?.phoneNumberID == phoneNumberID else {
                    events.append(.ignored("a change for another phone number"))
                    continue
                }
                events += Self.events(in: value)
            }
        }
        return events
    }

    private static func events(in value: Value) -> [InboundEvent] {
        var events: [InboundEvent] = []
        for lossy in value.messages ?? [] {
            guard let message = lossy.value else {
                events.append(.ignored("a message of an unknown shape"))
                continue
            }
            guard let id = message.id, !id.isEmpty, let from = message.from, !from.isEmpty else {
                events.append(.ignored("a message without an id or a sender"))
                continue
            }
            // Meta's ids are some 60 characters and its senders phone numbers: longer ones cannot be stored.
            guard id.unicodeScalars.count <= 200, from.unicodeScalars.count <= 200 else {
                events.append(.ignored("a message whose id or sender is over 200 characters"))
                continue
            }
            guard let (text, attachments) = content(of: message) else {
                events.append(.ignored("a message of type \(message.type ?? "none")"))
                continue
            }
            let name = value.contacts?.first { $0.waID == from }?.profile?.name?.trimmingCharacters(in: .whitespacesAndNewlines)
            events.append(
                .message(
                    InboundMessage(
                        dedupeKey: id, chat: from, contactName: name?.isEmpty == false ? name : nil, text: text, attachments: attachments)))
        }
        for lossy in value.statuses ?? [] {
            guard let status = lossy.value else {
                events.append(.ignored("a status of an unknown shape"))
                continue
            }
            guard let id = status.id, let state = status.status.flatMap(DeliveryState.init(rawValue:)), state != .queued else {
                events.append(.ignored("a status \(status.status ?? "none")"))
                continue
            }
            events.append(
                .delivery(DeliveryReport(channelMessageID: id, state: state, error: state == .failed ? reason(status.errors) : nil)))
        }
        return events
    }

    /// The text and the files of a message the bot understands; nil for a kind it does not (reactions, locations…).
    private static func content(of message: Message) -> (String, [Attachment])? {
        switch message.type {
        case "text": return message.text?.body.map { ($0, []) }
        case "interactive":
            let reply = message.interactive?.buttonReply ?? message.interactive?.listReply
            return reply?.title.map { ($0, []) }
        case "button": return (message.button?.text ?? message.button?.payload).map { ($0, []) }
        case "image": return media(message.image, .photo)
        case "document": return media(message.document, .document)
        case "audio": return media(message.audio, message.audio?.voice == true ? .voice : .audio)
        case "voice": return media(message.voice, .voice)
        case "video": return media(message.video, .video)
        case "sticker": return media(message.sticker, .sticker)
        default: return nil
        }
    }

    private static func media(_ media: Media?, _ kind: Attachment.Kind) -> (String, [Attachment])? {
        guard let media, let id = media.id, !id.isEmpty else { return nil }
        return (media.caption ?? "", [Attachment(kind: kind, file: id, name: media.filename, mime: media.mimeType)])
    }

    /// A failed status's first error as one sentence: "Title (code 131026): details".
    static func reason(_ errors: [GraphErrorDetail]?) -> String {
        guard let error = errors?.first else { return "The message could not be delivered." }
        var sentence = error.title ?? error.message ?? "The message could not be delivered"
        if let code = error.code { sentence += " (code \(code))" }
        if let details = error.errorData?.details, !details.isEmpty, details != sentence { sentence += ": " + details }
        return String(sentence.prefix(500))
    }

    // The webhook's shape, as far as the bot reads it: everything optional, and a message or status of an unexpected
    // shape costs that one, not the batch (Meta would redeliver a refused batch for days).
    struct WebhookPayload: Decodable {
        var object: String?
        var entry: [Entry]?
    }

    struct Entry: Decodable {
        var id: String?
        var changes: [Change]?
    }

    struct Change: Decodable {
        var field: String?
        var value: Value?
    }

    struct Value: Decodable {
        var metadata: Metadata?
        var contacts: [Contact]?
        var messages: [Lossy<Message>]?
        var statuses: [Lossy<Status>]?
    }

    /// One element of an array, nil when it does not decode.
    struct Lossy<Wrapped: Decodable>: Decodable {
        var value: Wrapped?
        init(from decoder: any Decoder) throws { value = try? Wrapped(from: decoder) }
    }

    struct Metadata: Decodable {
        var phoneNumberID: String?
        enum CodingKeys: String, CodingKey { case phoneNumberID = "phone_number_id" }
    }

    struct Contact: Decodable {
        struct Profile: Decodable { var name: String? }
        var profile: Profile?
        var waID: String?
        enum CodingKeys: String, CodingKey {
            case profile
            case waID = "wa_id"
        }
    }

    struct Message: Decodable {
        struct Text: Decodable { var body: String? }
        struct Reply: Decodable { var id: String?, title: String? }
        struct Interactive: Decodable {
            var type: String?
            var buttonReply: Reply?
            var listReply: Reply?
            enum CodingKeys: String, CodingKey {
                case type
                case buttonReply = "button_reply"
                case listReply = "list_reply"
            }
        }
        struct Button: Decodable { var payload: String?, text: String? }

        var from: String?
        var id: String?
        var type: String?
        var text: Text?
        var interactive: Interactive?
        var button: Button?
        var image: Media?
        var document: Media?
        var audio: Media?
        var voice: Media?
        var video: Media?
        var sticker: Media?
    }

    struct Media: Decodable {
        var id: String?
        var mimeType: String?
        var caption: String?
        var filename: String?
        var voice: Bool?
        enum CodingKeys: String, CodingKey {
            case id, caption, filename, voice
            case mimeType = "mime_type"
        }
    }

    struct Status: Decodable {
        var id: String?
        var status: String?
        var recipientID: String?
        var errors: [GraphErrorDetail]?
        enum CodingKeys: String, CodingKey {
            case id, status, errors
            case recipientID = "recipient_id"
        }
    }

    struct GraphErrorDetail: Decodable {
        struct Data: Decodable { var details: String? }
        var code: Int?
        var title: String?
        var message: String?
        var errorData: Data?
        enum CodingKeys: String, CodingKey {
            case code, title, message
            case errorData = "error_data"
        }
    }
}

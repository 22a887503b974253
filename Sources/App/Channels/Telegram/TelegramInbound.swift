import Foundation

/// A webhook body that is not a Bot API update: the controller answers 400 with the sentence.
public struct TelegramUpdateError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Turns one webhook POST (one `Update`) into the channels' common terms. Only private chats reach the bot: groups,
/// channels and the kinds of update not asked for are `.ignored` with the reason.
public enum TelegramInbound {
    public static func parse(_ body: [UInt8], connectionID: Int) throws -> InboundEvent {
        try parse(Data(body), connectionID: connectionID)
    }

    public static func parse(_ body: Data, connectionID: Int) throws -> InboundEvent {
        let update = try decode(body)
        let key = "\(connectionID):\(update.updateID)"
        if let message = update.message { return event(message, key: key, edited: false) }
        if let message = update.editedMessage { return event(message, key: key, edited: true) }
        if let query = update.callbackQuery { return event(query, key: key) }
        let kinds = update.otherKinds.joined(separator: ", ")
        return .ignored(kinds.isEmpty ? "the update carries nothing" : "an update of a kind the bot does not handle: \(kinds)")
    }

    static func decode(_ body: Data) throws -> TelegramUpdate {
        guard (try? JSONSerialization.jsonObject(with: body)) is [String: Any] else {
            throw TelegramUpdateError("The body is not a JSON object.")
        }
        do {
            return try JSONDecoder().decode(TelegramUpdate.self, from: body)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw TelegramUpdateError("The update has no \(path(context.codingPath + [key])).")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw TelegramUpdateError("The update's \(path(context.codingPath)) is not of the type the Bot API documents.")
        } catch {
            throw TelegramUpdateError("The body is not a Bot API update.")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func event(_ message: TelegramUpdate.Message, key: String, edited: Bool) -> InboundEvent {
        guard message.chat.type == "private" else { return .ignored("a message in a \(message.chat.type) chat") }
        let text = message.text ?? message.caption ?? message.sticker?.emoji ?? ""
        var inbound = InboundMessage(
            dedupeKey: key, chat: String(message.chat.id), contactName: message.from?.fullName, text: text,
            attachments: attachments(message), edited: edited)
        if message.text != nil { inbound.start = startPayload(text) }
        return .message(inbound)
    }

    private static func event(_ query: TelegramUpdate.CallbackQuery, key: String) -> InboundEvent {
        if let chat = query.message?.chat, chat.type != "private" { return .ignored("a button pressed in a \(chat.type) chat") }
        let chat = query.message?.chat.id ?? query.from.id
        return .message(
            InboundMessage(
                dedupeKey: key, chat: String(chat), contactName: query.from.fullName, text: query.data ?? "", callbackQueryID: query.id))
    }

    /// `/start`, `/start payload`, `/start@BotName payload`: the payload ("" when there is none); nil for other texts.
    static func startPayload(_ text: String) -> String? {
        guard text.hasPrefix("/start") else { return nil }
        var rest = text.dropFirst("/start".count)
        if rest.first == "@" {
            rest = rest.drop { !$0.isWhitespace }
        } else if let next = rest.first, !next.isWhitespace {
            return nil
        }
        return rest.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func attachments(_ message: TelegramUpdate.Message) -> [Attachment] {
        var found: [Attachment] = []
        if let largest = message.photo?.max(by: { area($0) < area($1) }) {
            found.append(Attachment(kind: .photo, file: largest.fileID, size: largest.fileSize))
        }
        let files: [(Attachment.Kind, TelegramUpdate.File?)] = [
            (.document, message.document), (.voice, message.voice), (.audio, message.audio), (.video, message.video),
            (.sticker, message.sticker),
        ]
        for case (let kind, let file?) in files {
            found.append(
                Attachment(
                    kind: kind, file: file.fileID, name: file.fileName, mime: file.mimeType, seconds: file.duration, size: file.fileSize))
        }
        return found
    }

    /// A photo size's pixels, then its bytes: the largest of Telegram's sizes wins.
    private static func area(_ file: TelegramUpdate.File) -> (Int, Int) {
        ((file.width ?? 0) * (file.height ?? 0), file.fileSize ?? 0)
    }
}

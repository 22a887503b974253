import AsyncHTTPClient
import Foundation
import NIOCore

/// The Telegram Bot API on the app's shared `HTTPClient`: `POST <base>/bot<token>/<method>` with a JSON body, files from
/// `<base>/file/bot<token>/<path>`. The token goes only into those addresses: never into an error, a refusal or a log.
public struct TelegramClient: MessengerClient {
    /// The updates a connection asks for at `setWebhook`.
    public static let allowedUpdates = ["message", "edited_message", "callback_query"]
    /// Webhook connections Telegram may open at once.
    public static let maxConnections = 40
    /// How many times a later part of a long message is tried again at once (the first parts are already out).
    static let partRetries = 2

    let client: HTTPClient
    /// `https://api.telegram.org` (`ChannelEndpoints.telegram`), or a fake's address.
    public let baseURL: String
    /// How long one call may take.
    public let timeout: Duration

    /// `client` is the app's shared one (`HTTPClientService`).
    public init(client: HTTPClient, baseURL: String, timeout: Duration = .seconds(10)) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
    }

    public func send(
        _ message: OutboundMessage, to chat: String, over connection: ChannelConnection, sent ids: inout [String]
    ) async -> SendOutcome {
        guard let token = Self.token(connection) else {
            return .refused(DeliveryRefusal(.unauthorized, "the connection has no valid bot token"))
        }
        let parts = TelegramRendering.render(message)
        guard !parts.isEmpty else { return .refused(DeliveryRefusal(.invalid, "the message is empty")) }
        let done = ids.count
        for (index, part) in parts.enumerated() where index >= done {
            let request = TelegramSendMessage(chatID: TelegramChatID(value: chat), text: part.html, replyMarkup: part.keyboard)
            var attempt = 0
            while true {
                do throws(TelegramFailure) {
                    let sent = try await call("sendMessage", token: token, request, as: TelegramSentMessage.self)
                    ids.append("\(chat):\(sent.messageID)")
                    break
                } catch {
                    let outcome = error.outcome
                    guard index > 0 else { return outcome }
                    // Earlier parts are out: a short wait here beats the job sending them again.
                    if case .retry(let after, let reason) = outcome {
                        let wait = after ?? .seconds(1)
                        if attempt < Self.partRetries, wait <= .seconds(3) {
                            attempt += 1
                            try? await Task.sleep(for: wait)
                            continue
                        }
                        return .retry(after: after, reason: "\(reason) (after \(index) of \(parts.count) parts were sent)")
                    }
                    return outcome
                }
            }
        }
        return .sent(ids)
    }

    public func download(
        _ attachment: Attachment, over connection: ChannelConnection, limit: Int
    ) async throws -> (bytes: [UInt8], mime: String?) {
        guard let token = Self.token(connection) else { throw TelegramError("The connection has no valid bot token.", retryable: false) }
        if let size = attachment.size, size > limit { throw Self.tooLarge(limit) }
        let file: TelegramFileInfo
        do throws(TelegramFailure) {
            file = try await call("getFile", token: token, TelegramParameters(fileID: attachment.file), as: TelegramFileInfo.self)
        } catch {
            throw TelegramError(error.sentence, retryable: error.isTransient)
        }
        if let size = file.fileSize, size > limit { throw Self.tooLarge(limit) }
        guard let path = file.filePath, !path.isEmpty else {
            throw TelegramError("Telegram gave no path for the file (it may be over 20 MB).", retryable: false)
        }
        let request = HTTPClientRequest(url: "\(baseURL)/file/bot\(token)/\(path)")
        let reply: ProviderReply
        do {
            reply = try await client.exchange(request, deadline: .now + timeout * 3, bodyLimit: limit)
        } catch ProviderTransportError.deadline {
            throw TelegramError("Telegram did not send the file in time.", retryable: true)
        } catch ProviderTransportError.unreachable(let reason) {
            if reason == OpenAIEmbeddings.reason(NIOTooManyBytesError(maxBytes: limit)) { throw Self.tooLarge(limit) }
            throw TelegramError("Telegram could not be reached: \(reason.redacting(token)).", retryable: true)
        }
        guard reply.isSuccess else {
            throw TelegramError("Telegram answered \(reply.status) for the file.", retryable: reply.status >= 500)
        }
        return (Array(reply.body.readableBytesView), attachment.mime ?? reply.headers.first(name: "Content-Type"))
    }

    public func setUp(_ connection: ChannelConnection, webhookURL: String) async throws -> ChannelSettings {
        guard let token = Self.token(connection) else {
            throw ChannelConnectionError(
                "telegram_token",
                "This is not a Telegram bot token: @BotFather gives one such as 123456789:AAE…, digits, a colon and letters.")
        }
        let bot: TelegramBotUser
        do throws(TelegramFailure) {
            bot = try await call("getMe", token: token, TelegramParameters(), as: TelegramBotUser.self)
        } catch let failure {
            if case .api(let code, _, _) = failure, code == 401 || code == 404 {
                throw ChannelConnectionError(
                    "telegram_token",
                    "Telegram did not accept the bot token: copy it again from @BotFather (revoking it there makes a new one).")
            }
            throw ChannelConnectionError(
                "telegram_unreachable", "Telegram could not check the token: \(failure.sentence) Try again in a minute.")
        }
        let webhook = TelegramSetWebhook(
            url: webhookURL, secretToken: connection.secrets.webhookSecret, allowedUpdates: Self.allowedUpdates,
            dropPendingUpdates: connection.settings.dropPendingUpdates ?? false, maxConnections: Self.maxConnections)
        do throws(TelegramFailure) {
            _ = try await call("setWebhook", token: token, webhook, as: Bool.self)
        } catch let failure {
            if case .api(let code, let description, _) = failure, (400..<500).contains(code), code != 429 {
                throw ChannelConnectionError("telegram_webhook", "Telegram refused the webhook address: \(description).")
            }
            throw ChannelConnectionError(
                "telegram_unreachable", "Telegram could not set the webhook: \(failure.sentence) Try again in a minute.")
        }
        var settings = connection.settings
        settings.username = bot.username
        settings.botUserID = bot.id
        return settings
    }

    public func tearDown(_ connection: ChannelConnection) async throws {
        guard let token = Self.token(connection) else { return }
        do throws(TelegramFailure) {
            _ = try await call("deleteWebhook", token: token, TelegramParameters(), as: Bool.self)
        } catch {
            throw TelegramError(error.sentence, retryable: error.isTransient)
        }
    }

    /// One Bot API call: its `result`, or how it failed.
    func call<Body: Encodable & Sendable, Result: Decodable>(
        _ method: String, token: String, _ body: Body, as type: Result.Type
    ) async throws(TelegramFailure) -> Result {
        var request = HTTPClientRequest(url: "\(baseURL)/bot\(token)/\(method)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        do {
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        } catch {
            throw .api(code: 400, description: "the request could not be encoded", retryAfter: nil)
        }
        let reply: ProviderReply
        do {
            reply = try await client.exchange(request, deadline: .now + timeout)
        } catch ProviderTransportError.unreachable(let reason) {
            throw .unreachable(reason.redacting(token))
        } catch {
            throw .timeout
        }
        let envelope = try? JSONDecoder().decode(TelegramEnvelope<Result>.self, from: Data(reply.body.readableBytesView))
        if let envelope, envelope.ok, let result = envelope.result { return result }
        let code = envelope?.errorCode ?? (reply.isSuccess ? 502 : reply.status)
        let description = envelope?.description ?? (reply.isSuccess ? "an answer that is not the Bot API's" : "HTTP \(reply.status)")
        throw .api(code: code, description: String(description.redacting(token).prefix(300)), retryAfter: envelope?.parameters?.retryAfter)
    }

    /// The connection's token when it looks like one (`<bot id>:<secret>`): anything else would break the address.
    static func token(_ connection: ChannelConnection) -> String? {
        guard let token = connection.secrets.token?.trimmingCharacters(in: .whitespacesAndNewlines),
            let colon = token.firstIndex(of: ":"), !token[..<colon].isEmpty, token[..<colon].allSatisfy(\.isASCII),
            token[..<colon].allSatisfy(\.isNumber), token.index(after: colon) < token.endIndex,
            token[token.index(after: colon)...].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { return nil }
        return token
    }

    private static func tooLarge(_ limit: Int) -> TelegramError {
        TelegramError("The file is larger than \(limit) bytes.", retryable: false)
    }
}

extension TelegramFailure {
    /// Whether trying again later may help.
    var isTransient: Bool {
        if case .retry = outcome { return true }
        return false
    }
}

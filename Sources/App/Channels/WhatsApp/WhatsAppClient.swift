import AsyncHTTPClient
import Foundation
import NIOCore

/// A WhatsApp call that failed for a reason that may pass (the network, Meta's servers) or a file that cannot be had:
/// never carries the access token.
public enum WhatsAppAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Meta could not be reached, or did not answer in time.
    case unreachable(String)
    /// Meta answered with an error.
    case refused(WhatsAppGraphError)
    /// Meta's answer was not what the API documents.
    case malformed(String)
    /// The file is larger than the caller takes.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .unreachable(let reason): "WhatsApp could not be reached: \(reason)."
        case .refused(let error): "WhatsApp refused the request (HTTP \(error.status)): \(error)."
        case .malformed(let what): "WhatsApp's answer was not understood: \(what)."
        case .tooLarge(let limit): "The file is larger than \(limit) bytes."
        }
    }
}

/// The WhatsApp Cloud API over the shared `HTTPClient`: messages go to `<base>/<phone number id>/messages` with the
/// connection's access token as a bearer token. Sending never throws: every outcome is a value.
public struct WhatsAppClient: MessengerClient {
    let client: HTTPClient
    /// `ChannelEndpoints.whatsapp`: Graph's address with its version, no trailing slash.
    let base: String
    /// How long one call may take.
    let timeout: Duration

    public init(client: HTTPClient, baseURL: String, timeout: Duration = .seconds(20)) {
        self.client = client
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.timeout = timeout
    }

    public func send(
        _ message: OutboundMessage, to chat: String, over connection: ChannelConnection, sent: inout [String]
    ) async -> SendOutcome {
        guard let phone = connection.settings.phoneNumberID, let token = connection.secrets.token, !token.isEmpty else {
            return .refused(DeliveryRefusal(.unauthorized, "The connection has no phone number ID or access token."))
        }
        let requests = WhatsAppRendering.render(message, to: chat)
        guard !requests.isEmpty else { return .refused(DeliveryRefusal(.invalid, "The message has nothing to send.")) }
        // Pieces an earlier try sent (each answered with one wamid) are not sent again.
        for outgoing in requests.dropFirst(sent.count) {
            switch await post(outgoing, phone: phone, token: token) {
            // One id per piece, so that the count says how many went (Meta answers one; an empty answer still went, and
            // is left out of the ids the message is known by).
            case .sent(let ids): sent.append(ids.first ?? "")
            // A later piece's failure is the message's: the job decides, as for the first.
            case let other: return other
            }
        }
        return .sent(sent.filter { !$0.isEmpty })
    }

    /// One `POST /<phone number id>/messages`.
    func post(_ outgoing: WhatsAppOutgoing, phone: String, token: String) async -> SendOutcome {
        var request = HTTPClientRequest(url: base + "/" + Self.segment(phone) + "/messages")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: outgoing.json))
        let reply: ProviderReply
        do {
            reply = try await client.exchange(request, deadline: .now + timeout, bodyLimit: 1 << 20)
        } catch ProviderTransportError.deadline {
            return .retry(after: nil, reason: "WhatsApp did not answer in time.")
        } catch ProviderTransportError.unreachable(let reason) {
            return .retry(after: nil, reason: "WhatsApp could not be reached: \(reason.redacting(token)).")
        } catch {
            return .retry(after: nil, reason: "The send was interrupted.")
        }
        guard reply.isSuccess else { return Self.graphError(reply, token: token).outcome }
        let messages = reply.json?["messages"] as? [[String: Any]] ?? []
        return .sent(messages.compactMap { $0["id"] as? String })
    }

    public func setUp(_ connection: ChannelConnection, webhookURL: String) async throws -> ChannelSettings {
        guard let phone = connection.settings.phoneNumberID, !phone.isEmpty else {
            throw ChannelConnectionError("whatsapp_phone", "The phone number ID is a number from Meta's WhatsApp settings (API Setup).")
        }
        guard let token = connection.secrets.token, !token.isEmpty else {
            throw ChannelConnectionError("whatsapp_token", "Paste the access token of the app's system user from Meta's settings.")
        }
        let reply = try await get(base + "/" + Self.segment(phone) + "?fields=display_phone_number,verified_name", token: token)
        guard reply.isSuccess else {
            let error = Self.graphError(reply, token: token)
            if case .refused(let refusal) = error.outcome, refusal.kind == .unauthorized {
                throw ChannelConnectionError("whatsapp_token", "Meta refused the access token: \(error).")
            }
            if reply.status == 429 || reply.status >= 500 || WhatsAppGraphError.rateLimits.contains(error.code ?? 0)
                || WhatsAppGraphError.transient.contains(error.code ?? 0)
            {
                throw WhatsAppAPIError.refused(error)
            }
            throw ChannelConnectionError("whatsapp_phone", "Meta does not know this phone number ID for this access token: \(error).")
        }
        guard let display = reply.json?["display_phone_number"] as? String else {
            throw WhatsAppAPIError.malformed("the phone number has no display_phone_number")
        }
        var settings = connection.settings
        settings.displayPhoneNumber = display
        return settings
    }

    /// Nothing to undo: the webhook's address lives in Meta's app settings, where the shop pasted it.
    public func tearDown(_ connection: ChannelConnection) async throws {}

    public func download(
        _ attachment: Attachment, over connection: ChannelConnection, limit: Int
    ) async throws -> (bytes: [UInt8], mime: String?) {
        guard let token = connection.secrets.token, !token.isEmpty else {
            throw ChannelConnectionError("whatsapp_token", "Paste the access token of the app's system user from Meta's settings.")
        }
        if let size = attachment.size, size > limit { throw WhatsAppAPIError.tooLarge(limit: limit) }
        let meta = try await get(base + "/" + Self.segment(attachment.file), token: token)
        guard meta.isSuccess else { throw WhatsAppAPIError.refused(Self.graphError(meta, token: token)) }
        guard let url = meta.json?["url"] as? String, url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw WhatsAppAPIError.malformed("the media has no URL")
        }
        if let size = Self.int(meta.json?["file_size"]), size > limit { throw WhatsAppAPIError.tooLarge(limit: limit) }
        let file = try await get(url, token: token, bodyLimit: limit)
        guard file.isSuccess else { throw WhatsAppAPIError.refused(Self.graphError(file, token: token)) }
        let mime = meta.json?["mime_type"] as? String ?? file.headers.first(name: "Content-Type") ?? attachment.mime
        return (Array(file.body.readableBytesView), mime)
    }

    /// A GET with the bearer token, its answer whole (at most `bodyLimit` bytes, else `.tooLarge`).
    private func get(_ url: String, token: String, bodyLimit: Int = 1 << 20) async throws -> ProviderReply {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        let deadline = ContinuousClock.now + timeout
        do {
            let response = try await client.execute(request, timeout: TimeAmount(timeout))
            if let length = response.headers.first(name: "Content-Length").flatMap({ Int($0) }), length > bodyLimit, response.status == .ok
            {
                throw WhatsAppAPIError.tooLarge(limit: bodyLimit)
            }
            let body = try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
                group.addTask { try await response.body.collect(upTo: bodyLimit) }
                group.addTask {
                    try await Task.sleep(until: deadline + .milliseconds(250), clock: .continuous)
                    throw ProviderTransportError.deadline
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw CancellationError() }
                return first
            }
            return ProviderReply(status: Int(response.status.code), headers: response.headers, body: body)
        } catch let error as WhatsAppAPIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw WhatsAppAPIError.tooLarge(limit: bodyLimit)
        } catch is CancellationError {
            throw CancellationError()
        } catch ProviderTransportError.deadline {
            throw WhatsAppAPIError.unreachable("it did not answer in time")
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw WhatsAppAPIError.unreachable("it did not answer in time")
        } catch {
            throw WhatsAppAPIError.unreachable(OpenAIEmbeddings.reason(error).redacting(token))
        }
    }

    static func graphError(_ reply: ProviderReply, token: String) -> WhatsAppGraphError {
        WhatsAppGraphError(status: reply.status, body: Array(reply.body.readableBytesView), retryAfter: reply.retryAfter, hiding: token)
    }

    /// An id as one path segment: anything but digits, letters, `.`, `_` and `-` is percent-encoded.
    static func segment(_ id: String) -> String {
        id.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(charactersIn: "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-"))
            ?? id
    }

    private static func int(_ value: Any?) -> Int? { (value as? Int) ?? (value as? String).flatMap { Int($0) } }
}

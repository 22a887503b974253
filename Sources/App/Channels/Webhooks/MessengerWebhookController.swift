import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Telegram's and WhatsApp's webhooks on a shop's hosts (`/hooks/telegram/<key>`, `/hooks/whatsapp/<key>`): the
/// connection is found by its unguessable key in the shop's own schema, the provider is verified in constant time
/// before anything is read or stored (Telegram's secret token header, WhatsApp's signature over the raw body), the
/// update is stored with its job in one transaction, and the answer is 200 at once. A redelivery is stored once and
/// still answered 200, so the provider stops resending it.
struct MessengerWebhookController: Sendable {
    let connections: ChannelConnectionStore
    let intake: ChannelIntake
    /// The largest update taken (Telegram's and WhatsApp's are a few KB).
    let bodyLimit = 1 << 20

    func addRoutes(to group: RouterGroup<ChannelRequestContext>) {
        group.post("telegram/:key", use: telegram)
        group.get("whatsapp/:key", use: whatsappVerification)
        group.post("whatsapp/:key", use: whatsapp)
    }

    @Sendable func telegram(_ request: Request, context: ChannelRequestContext) async throws -> Response {
        guard let connection = try await connection(.telegram, context) else { return Self.plain(.notFound, "Not found") }
        guard let expected = connection.secrets.webhookSecret,
            let presented = request.headers[HTTPField.Name("X-Telegram-Bot-Api-Secret-Token")!],
            SecretToken.constantTimeEquals(presented, expected)
        else {
            return Self.plain(.forbidden, "Forbidden")
        }
        let body = try await read(request)
        let event: InboundEvent
        do {
            event = try TelegramInbound.parse(WebhookJSON.replacingNUL(body), connectionID: connection.id)
        } catch {
            return Self.plain(.badRequest, "\(error)")
        }
        guard try await take([event], connection, context) else { return Self.plain(.serviceUnavailable, "Try again later") }
        // A pressed button stops spinning: the acknowledgement rides in the webhook's answer, with no call of our own.
        if case .message(let message) = event, let query = message.callbackQueryID {
            return APIJSON.response(CallbackAnswer(callbackQueryID: query))
        }
        return Response(status: .ok)
    }

    /// Meta's verification of the callback URL: the challenge back when the verify token matches.
    @Sendable func whatsappVerification(_ request: Request, context: ChannelRequestContext) async throws -> Response {
        guard let connection = try await connection(.whatsapp, context) else { return Self.plain(.notFound, "Not found") }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        guard let verify = connection.secrets.webhookSecret,
            let challenge = WhatsAppVerification.challenge(query: query, verifyToken: verify)
        else {
            return Self.plain(.forbidden, "Forbidden")
        }
        return Self.plain(.ok, challenge)
    }

    @Sendable func whatsapp(_ request: Request, context: ChannelRequestContext) async throws -> Response {
        guard let connection = try await connection(.whatsapp, context) else { return Self.plain(.notFound, "Not found") }
        let body = try await read(request)
        guard let secret = connection.secrets.appSecret,
            WhatsAppSignature.isValid(header: request.headers[HTTPField.Name("X-Hub-Signature-256")!], body: body, appSecret: secret)
        else {
            return Self.plain(.forbidden, "Forbidden")
        }
        let events: [InboundEvent]
        do {
            events = try WhatsAppInbound.parse(WebhookJSON.replacingNUL(body), phoneNumberID: connection.settings.phoneNumberID ?? "")
        } catch {
            return Self.plain(.badRequest, "\(error)")
        }
        guard try await take(events, connection, context) else { return Self.plain(.serviceUnavailable, "Try again later") }
        return Response(status: .ok)
    }

    /// Stores the events; false when the database failed (the provider is told to try again: nothing was acknowledged
    /// that is not stored).
    private func take(_ events: [InboundEvent], _ connection: ChannelConnection, _ context: ChannelRequestContext) async throws -> Bool {
        do {
            for event in events { try await intake.take(event, from: connection, in: context.tenant, logger: context.logger) }
            return true
        } catch {
            context.logger.error(
                "A webhook's update could not be stored", metadata: ["kind": "\(connection.kind.rawValue)", "error": "\(error)"])
            return false
        }
    }

    /// The connection the path's key names in this shop; nil for none. A database that cannot answer is the provider's
    /// cue to try again (503), never a 500.
    private func connection(_ kind: ChannelKind, _ context: ChannelRequestContext) async throws -> ChannelConnection? {
        guard let key = context.parameters.get("key") else { return nil }
        do {
            return try await connections.webhook(kind: kind, key: key, in: context.tenant, logger: context.logger)
        } catch {
            context.logger.error("A webhook's connection could not be read", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"])
            throw HTTPError(.serviceUnavailable)
        }
    }

    private func read(_ request: Request) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: bodyLimit)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw error
        } catch is NIOTooManyBytesError {
            // What `collect(upTo:)` throws past the limit: 413, not the 400 of a body that could not be read.
            throw HTTPError(.contentTooLarge)
        } catch {
            throw HTTPError(.badRequest)
        }
    }

    /// Telegram's `answerCallbackQuery`, as a method call in the webhook's answer.
    struct CallbackAnswer: Encodable {
        let method = "answerCallbackQuery"
        let callbackQueryID: String

        enum CodingKeys: String, CodingKey {
            case method
            case callbackQueryID = "callback_query_id"
        }
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

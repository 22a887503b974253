import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Yandex Alice's webhook on a shop's hosts (`POST /hooks/alice/<key>`): Alice posts each thing the shopper says and
/// the bot's answer goes back in the response, within Alice's deadline. The connection is found by its unguessable
/// key in the shop's own schema and the skill's id is checked in constant time before anything is stored. The bot's
/// answer runs within the budget (`VITRINA_ALICE_BUDGET_MS`); past it the shopper hears "one moment", the answer is
/// stored when ready and said on the next turn.
struct AliceWebhookController: Sendable {
    let connections: ChannelConnectionStore
    let engine: BotEngine
    let store: AliceStore
    let localizer: Localizer
    let budget: Duration
    let directory: TenantDirectory
    let origin: Origin
    /// Alice's requests are a few KB.
    static let bodyLimit = 64 * 1024

    func addRoutes(to group: RouterGroup<ChannelRequestContext>) {
        group.post("alice/:key", use: hook)
    }

    /// One turn: verified, then answered.
    @Sendable func hook(_ request: Request, context: ChannelRequestContext) async throws -> Response {
        let deadline = ContinuousClock.now + budget
        let tenant = context.tenant
        let language = tenant.resolvedBranding.defaultLanguage ?? Localizer.fallback
        guard let key = context.parameters.get("key") else { return refusal(.notFound, "not_found", language) }
        let found: ChannelConnection?
        do {
            found = try await connections.webhook(kind: .alice, key: key, in: tenant, logger: context.logger)
        } catch {
            context.logger.error("Alice's connection could not be read", metadata: ["error": "\(error)"])
            return APIJSON.response(
                AliceRendering.response(AliceSpeech([localizer.text("alice_failed", "ru")]), language: .ru, linkBase: ""))
        }
        guard let connection = found else { return refusal(.notFound, "not_found", language) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.bodyLimit)
        } catch {
            return refusal(.contentTooLarge, "too_large", language)
        }
        let json = WebhookJSON.replacingNUL(Array(body.readableBytesView))
        guard let alice = try? JSONDecoder().decode(AliceRequest.self, from: Data(json)), Self.usable(alice) else {
            return refusal(.badRequest, "body", language)
        }
        guard let skill = connection.settings.skillID, SecretToken.constantTimeEquals(alice.session.skillID, skill) else {
            return refusal(.forbidden, "skill", language)
        }
        let turn = AliceTurn(
            alice: alice, connection: connection, tenant: tenant, deadline: deadline, logger: context.logger, engine: engine, store: store,
            localizer: localizer)
        let linkBase = origin.url(host: directory.snapshot.primaryHost(of: tenant))
        let speech: AliceSpeech
        let spoken: BotLanguage
        do {
            (speech, spoken) = try await turn.answer()
        } catch {
            // The shopper hears an apology, never Alice's own error: the skill stays healthy in Yandex's checks.
            context.logger.error("An Alice turn failed", metadata: ["error": "\(error)"])
            return APIJSON.response(
                AliceRendering.response(AliceSpeech([localizer.text("alice_failed", "ru")]), language: .ru, linkBase: linkBase))
        }
        return APIJSON.response(AliceRendering.response(speech, language: spoken, linkBase: linkBase))
    }

    /// Ids short enough to store and a shopper to answer.
    static func usable(_ alice: AliceRequest) -> Bool {
        let session = alice.session
        guard let shopper = alice.shopper, (1...200).contains(shopper.count) else { return false }
        return (1...150).contains(session.sessionID.count) && session.skillID.count <= 200 && alice.words.count <= 4000
    }

    struct ErrorJSON: Encodable {
        var error: String
        var message: String
    }

    /// A refusal as JSON, in the shop's language.
    func refusal(_ status: HTTPResponse.Status, _ code: String, _ language: String) -> Response {
        APIJSON.response(ErrorJSON(error: code, message: localizer.text("alice_error_" + code, language)), status: status)
    }
}

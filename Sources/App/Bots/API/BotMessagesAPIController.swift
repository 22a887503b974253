import Foundation
import Hummingbird

/// `POST /api/v1/bot/messages`: a shopper's message to the shop's bot, answered with the reply and why (the step, the
/// entry, the score, the candidates). The message and the answer are stored as the engine stores every channel's.
struct BotMessagesAPIController: Sendable {
    let engine: BotEngine
    let access: BotAPIAccess

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("bot/messages", use: create)
    }

    struct MessageBody: Decodable, Sendable {
        var text: String
        var conversation: Int?
        var contact: String?
        var channel: String?
    }

    struct CandidateJSON: Encodable {
        let entry: String
        let source: String
        let score: Double
    }

    /// The reply; `text` and the explanation are `null` when the bot said nothing (people have the conversation).
    struct ReplyJSON: Encodable {
        let reply: BotReply

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: JSONKey.self)
            let answer = reply.answer
            try container.encode(reply.conversationID, forKey: JSONKey("conversation"))
            try container.encode(reply.messageID, forKey: JSONKey("message"))
            try container.encode(answer?.text, forKey: JSONKey("text"))
            try container.encode(answer?.parts ?? [], forKey: JSONKey("parts"))
            try container.encode(answer?.step.rawValue, forKey: JSONKey("step"))
            try container.encode(answer?.entry?.slug, forKey: JSONKey("entry"))
            try container.encode(answer?.rule, forKey: JSONKey("rule"))
            try container.encode(answer?.score, forKey: JSONKey("score"))
            try container.encode(reply.state.rawValue, forKey: JSONKey("state"))
            let candidates = (answer?.candidates ?? []).map {
                CandidateJSON(entry: $0.entry, source: $0.source.rawValue, score: $0.score)
            }
            try container.encode(candidates, forKey: JSONKey("candidates"))
            try container.encode(answer?.handoff?.rawValue, forKey: JSONKey("handoff"))
        }
    }

    @Sendable func create(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let body = try await APIJSON.decode(MessageBody.self, from: request, fields: ["text", "conversation", "contact", "channel"])
        let message = try Self.message(body)
        do {
            let reply = try await engine.reply(to: message, in: tenant, logger: context.logger)
            return APIJSON.response(ReplyJSON(reply: reply))
        } catch let error as ConversationNotFound {
            throw APIError.notFound(error.description)
        } catch is NoBot {
            throw BotAPIAccess.noBot
        } catch let error as IllegalTransition {
            throw APIError(.conflict, error.description)
        } catch let error as BotSettingsError {
            throw APIError.validation([FieldProblem(field: "text", message: error.description)])
        }
    }

    /// The body as the engine takes it, or a 422 naming the fields refused.
    static func message(_ body: MessageBody) throws -> ShopperMessage {
        var problems: [FieldProblem] = []
        let text = body.text.replacingOccurrences(of: "\r\n", with: "\n").apiText
        if text.isEmpty {
            problems.append(FieldProblem(field: "text", message: "Required: the shopper's message."))
        } else if body.text.databaseLength > 4000 {
            problems.append(FieldProblem(field: "text", message: "At most 4000 characters."))
        }
        let channel: ConversationChannel
        switch body.channel ?? "api" {
        case "api": channel = .api
        case "test": channel = .test
        default:
            channel = .api
            problems.append(FieldProblem(field: "channel", message: "Must be api or test."))
        }
        let contact = body.contact?.apiText
        if let contact, contact.isEmpty || (body.contact ?? "").databaseLength > 200 {
            problems.append(FieldProblem(field: "contact", message: "1 to 200 characters: your id for the shopper."))
        }
        if let id = body.conversation, id <= 0 {
            problems.append(FieldProblem(field: "conversation", message: "Must be a conversation id this API gave out."))
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
        return ShopperMessage(text: text, channel: channel, externalContactID: contact, conversationID: body.conversation)
    }
}

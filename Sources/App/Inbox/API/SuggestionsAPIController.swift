import Foundation
import Hummingbird

/// `POST /api/v1/conversations/{id}/suggestion`: the reply the shop's model drafts for an operator (as the inbox's
/// "Suggest a reply" does), for a key whose creator answers conversations in the shop. Nothing is sent or stored.
struct SuggestionsAPIController: Sendable {
    let access: BotAPIAccess
    let suggester: ReplySuggester

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("conversations/:id/suggestion", use: suggest)
    }

    struct SuggestionJSON: Encodable {
        struct Citation: Encodable {
            var id: String
            var source: String
            var entry: String
            var title: String
        }

        struct Tokens: Encodable {
            var prompt: Int
            var completion: Int
            var total: Int
        }

        var text: String
        var citations: [Citation]
        var tokens: Tokens
    }

    @Sendable func suggest(request: Request, context: APIRequestContext) async throws -> Response {
        try context.require(.conversationsWrite)
        let tenant = try await access.shop(context)
        guard let text = context.parameters.get("id"), let id = Int(text), id > 0 else { throw APIError.notFound() }
        guard let user = context.key.createdBy else {
            throw APIError(.forbidden, "This key has no creator to act as; make a new key in the panel.")
        }
        guard try await access.read(tenant, context, { try await InboxActions.mayAnswer(user, tenant: tenant, on: $0) }) else {
            throw APIError(.forbidden, "The key's creator no longer answers conversations in this shop.")
        }
        let suggestion: ReplySuggestion
        do {
            suggestion = try await suggester.suggest(conversation: id, in: tenant, logger: context.logger)
        } catch let error as HelperError {
            throw Self.problem(error)
        }
        let usage = suggestion.tokens
        return APIJSON.response(
            SuggestionJSON(
                text: suggestion.text,
                citations: suggestion.citations.map { .init(id: $0.id, source: $0.source.rawValue, entry: $0.entry, title: $0.title) },
                tokens: .init(prompt: usage.prompt, completion: usage.completion, total: usage.total)))
    }

    static func problem(_ error: HelperError) -> APIError {
        switch error {
        case .notFound: APIError.notFound("There is no such conversation.")
        case .noBot, .noModel, .overBudget: APIError(.conflict, error.description)
        case .provider(.timeout): APIError(.modelTimeout, error.description)
        case .provider, .unreadable: APIError(.modelFailed, error.description)
        }
    }
}

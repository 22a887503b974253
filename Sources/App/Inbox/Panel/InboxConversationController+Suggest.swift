import Foundation
import Hummingbird

extension InboxConversationController {
    /// What inbox.js reads back from "Suggest a reply": the draft and what it rests on, or the sentence saying why not.
    struct SuggestionJSON: Encodable {
        var text: String?
        var based: String?
        var error: String?
    }

    /// "Suggest a reply": the shop's model drafts the operator's answer from the conversation and the knowledge. The draft
    /// fills the reply box (nothing is sent or stored); a failure is said in a sentence. inbox.js asks for JSON
    /// (`Accept: application/json`); without the script the form posts here and the page comes back with the draft.
    @Sendable func suggest(request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try InboxPanel.id(context)
        let tenant = try InboxPanel.tenant(context)
        let t = panels.texts(context)
        let typed = context.form.raw("text")
        let wantsJSON = (request.headers[.accept] ?? "").contains("application/json")
        do {
            guard let suggester else { throw HelperError.noModel }
            let suggestion = try await suggester.suggest(conversation: id, in: tenant, logger: context.logger)
            let based = Self.based(suggestion, t: t)
            if wantsJSON { return APIJSON.response(SuggestionJSON(text: suggestion.text, based: based)) }
            return try await render(id, context: context, typed: suggestion.text) { $0.suggested = based }.response
        } catch let error as HelperError {
            if case .notFound = error { throw HTTPError(.notFound) }
            let sentence = t[error.textKey] ?? error.description
            if wantsJSON { return APIJSON.response(SuggestionJSON(error: sentence), status: Self.status(error)) }
            return try await render(id, context: context, typed: typed, error: sentence, status: Self.status(error)).response
        }
    }

    /// "The draft rests on: Delivery, Returns." (or that it rests on the conversation alone), for the operator to check.
    static func based(_ suggestion: ReplySuggestion, t: [String: String]) -> String {
        guard !suggestion.citations.isEmpty else { return t["inbox_suggest_no_sources"] ?? "" }
        return (t["inbox_suggest_sources"] ?? "%s").replacingOccurrences(
            of: "%s", with: suggestion.citations.map(\.title).joined(separator: ", "))
    }

    static func status(_ error: HelperError) -> HTTPResponse.Status {
        switch error {
        case .notFound: .notFound
        case .noBot, .noModel, .overBudget: .conflict
        case .provider(.timeout): .gatewayTimeout
        case .provider, .unreadable: .badGateway
        }
    }
}

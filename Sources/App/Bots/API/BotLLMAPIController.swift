import Foundation
import Hummingbird

/// "Test the connection" for a shop's key: `POST /api/v1/bot/llm/test` and `POST /api/v1/bots/{slug}/llm/test`. The
/// body (optional) is `llm` as `PUT` takes it; the model those settings name (the agency's when the bot follows it) is
/// asked to say OK within 10 seconds. Nothing is stored. At most 10 tests a minute per key.
struct BotLLMAPIController: Sendable {
    let access: BotAPIAccess
    let model: BotModelAPI
    let tester: LLMConnectionTest

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("bot/llm/test") { request, context in try await test(request: request, context: context, slug: nil) }
        group.post("bots/:slug/llm/test") { request, context in
            try await test(request: request, context: context, slug: try context.parameters.require("slug"))
        }
    }

    func test(request: Request, context: APIRequestContext, slug: String?) async throws -> Response {
        try context.require(.botWrite)
        let tenant = try await access.shop(context)
        let change =
            request.headers[.contentType] == nil
            ? BotLLMChange() : try await APIJSON.decode(BotLLMChange.self, from: request, nullable: BotLLMChange.nullable)
        try change.unknown.refuseUnknown()
        let store = model.store
        let found = try await access.read(tenant, context) { try await store.state(slug: slug, tenantID: tenant.id, on: $0) }
        guard let current = found else {
            throw slug.map { APIError.notFound("This shop has no bot “\($0)”.") } ?? BotAPIAccess.noBot
        }
        let key = try change.keyChange()
        let settings = try change.settings(over: current.bot.llm, endpoints: model.endpoints)
        let target = try self.target(settings, key: key, current: current)
        if let wait = tester.take("key:" + context.key.id.uuidString) {
            throw APIError(
                .rateLimited, "At most 10 connection tests a minute per key. Retry after \(wait) s.", headers: [.retryAfter: String(wait)])
        }
        // Looked up once the test is counted: a look-up is work a key may not ask for without limit.
        if await model.endpoints.leadsInside(settings.provider?.baseURL, stored: current.bot.llm.provider?.baseURL) {
            throw BotModelAPI.inside()
        }
        let outcome = await tester.run(target.provider, key: target.key, logger: context.logger)
        let result = LLMConnectionTest.ResultJSON(outcome, provider: target.provider)
        return APIJSON.response(result)
    }

    /// The provider and key the settings name: the bot's own, or its agency's.
    private func target(
        _ settings: LLMSettings, key: LLMKeyChange, current: BotModelState
    ) throws -> (provider: LLMProvider, key: String) {
        do {
            switch settings.mode {
            case .off: throw APIError(.conflict, "The bot's model is off: there is nothing to test.")
            case .partner:
                guard let agency = current.agency else {
                    throw APIError(.conflict, "The shop's agency gives no model: there is nothing to test.")
                }
                return (agency.provider, try agency.sealedKey.map(model.secrets.open) ?? "")
            case .own:
                guard let provider = settings.provider else {
                    throw APIError.validation([FieldProblem(field: "llm.provider", message: "Required for the bot's own model.")])
                }
                let stored = current.bot.llm.provider
                return (
                    provider,
                    try LLMEdit.testKey(key, stored: current.sealedKey, provider: provider, storedProvider: stored, secrets: model.secrets)
                )
            }
        } catch let error as BotSettingsError where error == LLMEdit.retypeKey {
            throw APIError.validation([BotModelAPI.retypeKey])
        } catch let error as SecretBoxError {
            throw APIError(.conflict, "The stored key cannot be opened (\(error.description)) Send the key again with PUT.")
        }
    }
}

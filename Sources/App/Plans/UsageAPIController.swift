import Foundation
import Hummingbird

/// `GET /api/v1/usage?month=YYYY-MM`: a month's counts per shop (this month by default). A partner's key (`tenants:read`)
/// gets each of its shops; a shop's key (`bot:read`) gets its own line only.
struct UsageAPIController: Sendable {
    let plans: PlanStore
    let clock: WallClock

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("usage", use: list)
    }

    struct ShopUsageJSON: Encodable {
        let tenant: String
        let name: String
        let plan: String?
        let messages: Int
        let maxMessages: Int?
        let llmCalls: Int
        let llmPromptTokens: Int
        let llmCompletionTokens: Int
        let llmTokens: Int
        let llmTokenLimit: Int?
        let llmTokenCap: Int?
        let llmPaused: Bool

        init(_ shop: ShopUsage) {
            tenant = shop.slug
            name = shop.name
            plan = shop.planSlug
            messages = shop.figures.messages
            maxMessages = shop.messageLimit
            llmCalls = shop.figures.llmCalls
            llmPromptTokens = shop.figures.promptTokens
            llmCompletionTokens = shop.figures.completionTokens
            llmTokens = shop.figures.totalTokens
            llmTokenLimit = shop.budget.limit
            llmTokenCap = shop.budget.cap
            llmPaused = shop.budget.level == .paused
        }

        enum CodingKeys: String, CodingKey {
            case tenant, name, plan, messages
            case maxMessages = "max_messages"
            case llmCalls = "llm_calls"
            case llmPromptTokens = "llm_prompt_tokens"
            case llmCompletionTokens = "llm_completion_tokens"
            case llmTokens = "llm_tokens"
            case llmTokenLimit = "llm_token_limit"
            case llmTokenCap = "llm_token_cap"
            case llmPaused = "llm_paused"
        }

        // Nulls are written out: a missing limit means "none", and clients can rely on every member being there.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(name, forKey: .name)
            try container.encode(plan, forKey: .plan)
            try container.encode(messages, forKey: .messages)
            try container.encode(maxMessages, forKey: .maxMessages)
            try container.encode(llmCalls, forKey: .llmCalls)
            try container.encode(llmPromptTokens, forKey: .llmPromptTokens)
            try container.encode(llmCompletionTokens, forKey: .llmCompletionTokens)
            try container.encode(llmTokens, forKey: .llmTokens)
            try container.encode(llmTokenLimit, forKey: .llmTokenLimit)
            try container.encode(llmTokenCap, forKey: .llmTokenCap)
            try container.encode(llmPaused, forKey: .llmPaused)
        }
    }

    struct UsageJSON: Encodable {
        let month: String
        let data: [ShopUsageJSON]
    }

    @Sendable func list(request: Request, context: APIRequestContext) async throws -> Response {
        let scope: UsageScope
        switch context.key.owner {
        case .partner(let id):
            try context.require(.tenantsRead)
            scope = .partner(id)
        case .tenant(let id):
            try context.require(.botRead)
            scope = .tenant(id)
        }
        var month = UsageMonth(containing: clock.now())
        if let text = request.uri.queryParameters.get("month") {
            guard let chosen = UsageMonth(text) else {
                throw APIError(.invalidParameter, "`month` must be a calendar month written YYYY-MM, such as 2026-12.")
            }
            month = chosen
        }
        let shops = try await plans.usage(scope, month: month)
        return APIJSON.response(UsageJSON(month: month.text, data: shops.map(ShopUsageJSON.init)))
    }
}

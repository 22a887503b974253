import Foundation
import Logging

/// Why a helper for people (a suggested reply, drafted FAQ entries) could not give its result: each a sentence a person
/// can act on (`description` in English for the API and the job's record, `textKey` for the panel's languages).
public enum HelperError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound
    case noBot
    /// The bot has no language model (none of its own and none from its agency), or its key cannot be opened.
    case noModel
    /// The shop has used the month's tokens (its plan's or its own lower cap).
    case overBudget
    case provider(ChatModelError)
    /// The model answered something other than the JSON it was asked for.
    case unreadable(String)

    public var description: String {
        switch self {
        case .notFound: "There is no such conversation."
        case .noBot: "This shop has no bot."
        case .noModel: "The bot has no language model: choose a provider and key in the bot's settings."
        case .overBudget: "The shop has used all of this month's language-model tokens; nothing was asked."
        case .provider(let error): error.description
        case .unreadable(let why): "The model's reply could not be used: \(why)."
        }
    }

    /// The interface text's key.
    public var textKey: String {
        switch self {
        case .notFound: "inbox_error_not_found"
        case .noBot: "helper_error_no_bot"
        case .noModel: "helper_error_no_model"
        case .overBudget: "helper_error_over_budget"
        case .unreadable: "helper_error_unreadable"
        case .provider(let error):
            switch error {
            case .badKey: "helper_error_key"
            case .quota: "helper_error_quota"
            case .rateLimited, .circuitOpen: "helper_error_busy"
            case .timeout: "helper_error_timeout"
            case .modelMissing: "helper_error_model_missing"
            case .unavailable, .untrusted, .malformed: "helper_error_unavailable"
            }
        }
    }
}

/// The model a shop's helpers ask, resolved as the bot engine resolves it for shoppers: the bot's own provider or its
/// agency's (`BotSnapshot.model`), its sealed key opened, and only while the shop has tokens left this month (the
/// plan's `llm_tokens_per_month` and the shop's own lower cap). Every call's tokens are counted in the same month's
/// usage (`BotEngine.count`), so the budget covers these helpers too.
public struct ShopModel: Sendable {
    let models: (any ChatModelSource)?
    let secrets: SecretBox?

    public init(models: (any ChatModelSource)?, secrets: SecretBox?) {
        self.models = models
        self.secrets = secrets
    }

    /// A model ready to ask: the provider, the opened key and the circuit breaker's key.
    struct Access: Sendable {
        var provider: LLMProvider
        var key: String
        var circuit: String
    }

    /// The access for `model` (a snapshot's or `BotSnapshot.model`'s), checked against the month's budget in the
    /// caller's transaction. Throws `.noModel` or `.overBudget` (no call is made then).
    func access(
        _ model: (provider: LLMProvider, sealedKey: String?, fromPartner: Bool)?, tenant: TenantRecord, on connection: TenantConnection,
        logger: Logger
    ) async throws -> Access {
        guard models != nil, let secrets, let (provider, sealed, _) = model else { throw HelperError.noModel }
        let key: String
        do {
            key = try sealed.map { try secrets.open($0) } ?? ""
        } catch {
            logger.error("A sealed model key cannot be opened", metadata: ["error": "\(error)"])
            throw HelperError.noModel
        }
        if try await Self.overBudget(tenant, on: connection) { throw HelperError.overBudget }
        return Access(provider: provider, key: key, circuit: tenant.id.uuidString + "/" + provider.name)
    }

    /// The access for the shop's bot `botID` (its first bot when nil).
    func access(botID: Int?, tenant: TenantRecord, on connection: TenantConnection, logger: Logger) async throws -> Access {
        guard let bot = try await BotStore.find(id: botID, on: connection) else { throw HelperError.noBot }
        return try await access(try await BotSnapshot.model(for: bot, on: connection), tenant: tenant, on: connection, logger: logger)
    }

    /// Whether the shop has used this month's tokens (its plan's allowance or its own lower cap).
    static func overBudget(_ tenant: TenantRecord, on connection: TenantConnection) async throws -> Bool {
        let budget = try await connection.value(
            (Int64, Int64?, Int64?).self,
            """
            SELECT coalesce((SELECT u.llm_prompt_tokens + u.llm_completion_tokens FROM platform.message_usage u
                    WHERE u.tenant_id = t.id AND u.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date), 0),
                p.llm_tokens_per_month, t.llm_token_cap
            FROM platform.tenants t LEFT JOIN platform.plans p ON p.id = t.plan_id WHERE t.id = \(tenant.id)
            """)
        guard let (used, plan, cap) = budget, let limit = [plan, cap].compactMap({ $0 }).min() else { return false }
        return used >= limit
    }

    /// Asks the model (no transaction may be open), within `timeout`; a provider's failure becomes `.provider`.
    func complete(_ messages: [ChatMessage], access: Access, timeout: Duration, logger: Logger) async throws -> ChatCompletion {
        guard let models else { throw HelperError.noModel }
        let request = ChatRequest(
            messages: messages, temperature: access.provider.temperature, maxTokens: access.provider.maxTokens, json: true)
        do {
            let model = try models.model(for: access.provider, key: access.key, circuit: access.circuit)
            return try await model.complete(request, deadline: .now + timeout, logger: logger, onDelta: nil)
        } catch let error as ChatModelError {
            logger.notice(
                "The language model did not answer a helper", metadata: ["error": "\(error)", "model": "\(access.provider.name)"])
            throw HelperError.provider(error)
        }
    }

    /// Counts a call's tokens in the shop's month, in a transaction of its own.
    func count(_ usage: TokenUsage, tenant: TenantRecord, tenants: TenantDatabase, logger: Logger) async throws {
        try await tenants.withTenant(tenant, logger: logger) { connection in
            try await BotEngine.count(usage, tenant: tenant, on: connection)
        }
    }
}

import Foundation
import PostgresNIO

/// One shop's counts for one month (`platform.message_usage`; zeros for a month without a row).
public struct UsageFigures: Sendable, Equatable, RowDecodable {
    public var month: String
    public var messages: Int
    public var llmCalls: Int
    public var promptTokens: Int
    public var completionTokens: Int

    public var totalTokens: Int { promptTokens + completionTokens }

    static let columns = """
        coalesce(u.messages, 0), coalesce(u.llm_calls, 0), coalesce(u.llm_prompt_tokens, 0)::int8,
        coalesce(u.llm_completion_tokens, 0)::int8
        """

    public init(row: PostgresRow) throws {
        (month, messages, llmCalls, promptTokens, completionTokens) = try row.decode((String, Int, Int, Int, Int).self)
    }

    init(month: String, messages: Int = 0, llmCalls: Int = 0, promptTokens: Int = 0, completionTokens: Int = 0) {
        (self.month, self.messages, self.llmCalls, self.promptTokens, self.completionTokens) =
            (month, messages, llmCalls, promptTokens, completionTokens)
    }
}

/// How far a shop is into its month's tokens.
public enum UsageLevel: String, Sendable {
    case normal
    /// At least 80 % of the effective limit.
    case warning
    /// The limit is reached: the model is paused until the 1st of next month (retrieval answers go on).
    case paused
}

/// A shop's tokens this month against its plan's limit and its own lower cap (`nil`: none).
public struct TokenBudget: Sendable, Equatable {
    public var used: Int
    public var plan: Int?
    public var cap: Int?

    /// What the engine stops at: the lower of the two.
    public var limit: Int? { [plan, cap].compactMap { $0 }.min() }

    /// The share of the limit used, in per cent (`nil` without a limit).
    public var percent: Double? {
        guard let limit else { return nil }
        return limit == 0 ? 100 : Double(used) * 100 / Double(limit)
    }

    public var level: UsageLevel {
        guard let limit else { return .normal }
        if used >= limit { return .paused }
        return used * 100 >= limit * UsageWarnings.threshold ? .warning : .normal
    }
}

/// A shop's line in an agency's usage table for one month.
public struct ShopUsage: Sendable, RowDecodable {
    public var slug: String
    public var name: String
    public var agencySlug: String?
    public var agencyName: String?
    public var planSlug: String?
    public var planName: String?
    public var figures: UsageFigures
    public var budget: TokenBudget
    public var messageLimit: Int?

    public init(row: PostgresRow) throws {
        let (
            slug, name, agencySlug, agencyName, planSlug, planName, month, messages, calls, prompt, completion, planTokens, cap,
            messageLimit
        ) =
            try row.decode((String, String, String?, String?, String?, String?, String, Int, Int, Int, Int, Int?, Int?, Int?).self)
        (self.slug, self.name, self.agencySlug, self.agencyName, self.planSlug, self.planName) =
            (slug, name, agencySlug, agencyName, planSlug, planName)
        figures = UsageFigures(month: month, messages: messages, llmCalls: calls, promptTokens: prompt, completionTokens: completion)
        budget = TokenBudget(used: prompt + completion, plan: planTokens, cap: cap)
        self.messageLimit = messageLimit
    }
}

/// A shop's own token cap as a person or a client types it.
enum TokenCap {
    /// Why a typed cap is refused (an interface-text key; `%n` is the plan's limit).
    struct Problem: Error, Equatable {
        let key: String
    }

    /// The cap in a form or a file: empty clears it; else a whole number of tokens from 0 to the plan's limit (spaces
    /// between digit groups allowed, as people write "50 000").
    static func read(_ typed: String, planLimit: Int?) -> Result<Int?, Problem> {
        let digits = typed.filter { !$0.isWhitespace }
        guard !digits.isEmpty else { return .success(nil) }
        guard digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits), value <= 2_000_000_000
        else { return .failure(Problem(key: "usage_cap_invalid")) }
        if let planLimit, value > planLimit { return .failure(Problem(key: "usage_cap_above_plan")) }
        return .success(value)
    }
}

/// Which shops an agency's usage table lists.
public enum UsageScope: Sendable, Equatable {
    /// One agency's shops.
    case partner(UUID)
    /// Every shop of the installation (the platform's panel, no agency chosen).
    case everyone
    /// One shop (a shop's own API key).
    case tenant(UUID)
}

extension PlanStore {
    /// A shop's counts for `months` (missing months as zeros), in the order given.
    public func usage(tenantID: UUID, months: [UsageMonth]) async throws -> [UsageFigures] {
        let found = try await database.all(
            UsageFigures.self,
            """
            SELECT to_char(u.month, 'YYYY-MM'), \(unescaped: UsageFigures.columns)
            FROM platform.message_usage u WHERE u.tenant_id = \(tenantID) AND u.month = ANY(\(months.map(\.firstDay))::date[])
            """)
        let byMonth = Dictionary(found.map { ($0.month, $0) }, uniquingKeysWith: { first, _ in first })
        return months.map { byMonth[$0.text] ?? UsageFigures(month: $0.text) }
    }

    /// A shop's tokens in `month` against its plan's limit and its own cap, and its plan's monthly messages.
    public func budget(tenantID: UUID, month: UsageMonth) async throws -> (budget: TokenBudget, messageLimit: Int?) {
        let row = try await database.value(
            (Int, Int?, Int?, Int?).self,
            """
            SELECT coalesce((SELECT u.llm_prompt_tokens + u.llm_completion_tokens FROM platform.message_usage u
                    WHERE u.tenant_id = t.id AND u.month = \(month.firstDay)::date), 0)::int8,
                p.llm_tokens_per_month::int8, t.llm_token_cap::int8, p.max_messages_per_month
            FROM platform.tenants t LEFT JOIN platform.plans p ON p.id = t.plan_id WHERE t.id = \(tenantID)
            """)
        guard let row else { return (TokenBudget(used: 0), nil) }
        return (TokenBudget(used: row.0, plan: row.1, cap: row.2), row.3)
    }

    /// Every shop in `scope` (not purged) with its counts for `month`, by name.
    public func usage(_ scope: UsageScope, month: UsageMonth) async throws -> [ShopUsage] {
        let (partnerID, tenantID): (UUID?, UUID?) =
            switch scope {
            case .partner(let id): (id, nil)
            case .tenant(let id): (nil, id)
            case .everyone: (nil, nil)
            }
        return try await database.all(
            ShopUsage.self,
            """
            SELECT t.slug, t.name, pa.slug, pa.name, p.slug, p.name, \(month.text), \(unescaped: UsageFigures.columns),
                p.llm_tokens_per_month::int8, t.llm_token_cap::int8, p.max_messages_per_month
            FROM platform.tenants t
            LEFT JOIN platform.partners pa ON pa.id = t.partner_id
            LEFT JOIN platform.plans p ON p.id = t.plan_id
            LEFT JOIN platform.message_usage u ON u.tenant_id = t.id AND u.month = \(month.firstDay)::date
            WHERE t.status <> 'purged' AND (\(partnerID)::uuid IS NULL OR t.partner_id = \(partnerID))
                AND (\(tenantID)::uuid IS NULL OR t.id = \(tenantID))
            ORDER BY t.name, t.slug
            """)
    }

    /// Sets (or, with `nil`, clears) a shop's own token cap; returns the one it had.
    @discardableResult
    public func setTokenCap(_ cap: Int?, tenantID: UUID, on runner: any QueryRunner) async throws -> Int? {
        try await runner.value(
            Int?.self,
            """
            UPDATE platform.tenants t SET llm_token_cap = \(cap), updated_at = now()
            FROM (SELECT llm_token_cap FROM platform.tenants WHERE id = \(tenantID) FOR UPDATE) old
            WHERE t.id = \(tenantID) RETURNING old.llm_token_cap::int8
            """) ?? nil
    }
}

import Foundation
import PostgresNIO

/// A partner's offer to its shops: limits on bots, messages a month, team seats and LLM tokens a month. `nil` is
/// unlimited. Seats are enforced now (invitations); bots, messages and LLM tokens are enforced where those features
/// are built, through `PlanStore.limits(tenantID:)`.
public struct Plan: Sendable, Equatable {
    public var id: UUID
    public var slug: String
    public var name: String
    public var maxBots: Int?
    public var maxMessagesPerMonth: Int?
    public var maxSeats: Int?
    public var llmTokensPerMonth: Int?

    public init(
        id: UUID = UUID(), slug: String, name: String, maxBots: Int? = nil, maxMessagesPerMonth: Int? = nil, maxSeats: Int? = nil,
        llmTokensPerMonth: Int? = nil
    ) {
        self.id = id
        self.slug = slug
        self.name = name
        self.maxBots = maxBots
        self.maxMessagesPerMonth = maxMessagesPerMonth
        self.maxSeats = maxSeats
        self.llmTokensPerMonth = llmTokensPerMonth
    }

    /// Same offer, ignoring the id (for `tenants apply`'s change detection).
    func sameLimits(as other: Plan) -> Bool {
        name == other.name && maxBots == other.maxBots && maxMessagesPerMonth == other.maxMessagesPerMonth
            && maxSeats == other.maxSeats && llmTokensPerMonth == other.llmTokensPerMonth
    }
}

/// A shop's team is full: its plan's seats are taken by members and pending invitations.
public struct SeatLimitReached: Error, Sendable {
    public let limit: Int
}

/// Plans in `platform.plans` and the shops on them. Methods that take a runner join the caller's transaction.
public struct PlanStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// A partner's plans (the platform's own when `partnerID` is `nil`), by name.
    public func all(partnerID: UUID?, on runner: (any QueryRunner)? = nil) async throws -> [Plan] {
        try await (runner ?? database).all(
            Plan.self,
            "SELECT \(unescaped: Plan.columns) FROM platform.plans WHERE partner_id IS NOT DISTINCT FROM \(partnerID) ORDER BY name")
    }

    /// A shop's plan, if it has one.
    public func limits(tenantID: UUID, on runner: (any QueryRunner)? = nil) async throws -> Plan? {
        try await (runner ?? database).first(
            Plan.self,
            """
            SELECT \(unescaped: Plan.columns) FROM platform.plans
            WHERE id = (SELECT plan_id FROM platform.tenants WHERE id = \(tenantID))
            """)
    }

    /// Refuses a new invitation when the shop's plan has no free seat. Locks the shop's row, so two invitations at once
    /// cannot both take the last seat. Members and unexpired invitations count; the agency's staff do not.
    /// The shop's messages this month (UTC) and its plan's monthly limit (nil: none).
    public func messageUsage(tenantID: UUID) async throws -> (used: Int, limit: Int?) {
        let row = try await database.value(
            (Int, Int?).self,
            """
            SELECT coalesce((SELECT u.messages FROM platform.message_usage u
                    WHERE u.tenant_id = t.id AND u.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date), 0),
                p.max_messages_per_month
            FROM platform.tenants t LEFT JOIN platform.plans p ON p.id = t.plan_id WHERE t.id = \(tenantID)
            """)
        return (row?.0 ?? 0, row?.1)
    }

    public func checkSeat(tenantID: UUID, on transaction: Transaction) async throws {
        // The lock first, in its own statement: under READ COMMITTED the counts below then see every invitation
        // committed before the lock was granted (one statement would count from its own earlier snapshot).
        try await transaction.execute("SELECT 1 FROM platform.tenants WHERE id = \(tenantID) FOR UPDATE")
        if let (limit, used) = try await transaction.value(
            (Int?, Int).self,
            """
            SELECT p.max_seats, platform.seats_used(t.id)
            FROM platform.tenants t LEFT JOIN platform.plans p ON p.id = t.plan_id WHERE t.id = \(tenantID)
            """), let limit, used >= limit
        {
            throw SeatLimitReached(limit: limit)
        }
    }

    /// Puts a shop on one of its partner's plans (`nil`: none). `false` when the plan is not the shop's partner's.
    public func assign(_ planID: UUID?, tenantID: UUID, partnerID: UUID?, on runner: any QueryRunner) async throws -> Bool {
        try await !runner.rows(
            """
            UPDATE platform.tenants SET plan_id = \(planID), updated_at = now()
            WHERE id = \(tenantID) AND partner_id IS NOT DISTINCT FROM \(partnerID)
              AND (\(planID)::uuid IS NULL OR EXISTS (
                  SELECT 1 FROM platform.plans WHERE id = \(planID) AND partner_id IS NOT DISTINCT FROM \(partnerID)))
            RETURNING id
            """
        ).isEmpty
    }

    /// Creates or updates a partner's plan by slug; returns whether anything changed.
    public func upsert(_ plan: Plan, partnerID: UUID?, on runner: any QueryRunner) async throws -> Bool {
        let existing = try await runner.first(
            Plan.self,
            """
            SELECT \(unescaped: Plan.columns) FROM platform.plans
            WHERE partner_id IS NOT DISTINCT FROM \(partnerID) AND slug = \(plan.slug) FOR UPDATE
            """)
        if let existing {
            if existing.sameLimits(as: plan) { return false }
            try await runner.execute(
                """
                UPDATE platform.plans SET name = \(plan.name), max_bots = \(plan.maxBots), max_seats = \(plan.maxSeats),
                    max_messages_per_month = \(plan.maxMessagesPerMonth), llm_tokens_per_month = \(plan.llmTokensPerMonth),
                    updated_at = now()
                WHERE id = \(existing.id)
                """)
        } else {
            try await runner.execute(
                """
                INSERT INTO platform.plans (id, partner_id, slug, name, max_bots, max_messages_per_month, max_seats, llm_tokens_per_month)
                VALUES (\(plan.id), \(partnerID), \(plan.slug), \(plan.name), \(plan.maxBots), \(plan.maxMessagesPerMonth),
                    \(plan.maxSeats), \(plan.llmTokensPerMonth))
                """)
        }
        return true
    }
}

extension Plan: RowDecodable {
    static let columns = "id, slug, name, max_bots, max_messages_per_month, max_seats, llm_tokens_per_month::int8"

    public init(row: PostgresRow) throws {
        let (id, slug, name, bots, messages, seats, tokens) = try row.decode((UUID, String, String, Int?, Int?, Int?, Int?).self)
        self.init(id: id, slug: slug, name: name, maxBots: bots, maxMessagesPerMonth: messages, maxSeats: seats, llmTokensPerMonth: tokens)
    }
}

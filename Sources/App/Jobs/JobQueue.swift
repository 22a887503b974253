import Foundation
import Logging
import PostgresNIO

/// The time as the queue reads it: the system's, or a test's own (which moves only when the test says so).
public struct WallClock: Sendable {
    public let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    public static let system = WallClock { Date() }
}

/// `platform.jobs`: enqueued inside the transaction of what caused the work, claimed by workers with
/// `FOR UPDATE SKIP LOCKED` and a lease, their outcome recorded under that lease. No transaction stays open while a
/// job works. Times come from `clock`, so tests move time instead of sleeping.
public struct JobQueue: Sendable {
    public static let channel = "vitrina_jobs"
    let database: Database
    let clock: WallClock
    let logger: Logger

    public init(database: Database, clock: WallClock = .system, logger: Logger) {
        self.database = database
        self.clock = clock
        self.logger = logger
    }

    /// Queues a job, on `runner` when it must commit with the caller's change. A repeated idempotency key makes no
    /// second job; the first one's id is returned.
    @discardableResult
    public func enqueue<Payload: JobKind>(
        _ payload: Payload, tenant: UUID? = nil, runAt: Date? = nil, maxAttempts: Int = 10, idempotencyKey: String? = nil,
        on runner: (any QueryRunner)? = nil
    ) async throws -> Int {
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        let runner = runner ?? database
        let inserted = try await runner.value(
            Int.self,
            """
            INSERT INTO platform.jobs (tenant_id, kind, payload, run_at, max_attempts, idempotency_key)
            VALUES (\(tenant), \(Payload.kind), \(json)::jsonb, \(runAt ?? clock.now()), \(max(1, maxAttempts)), \(idempotencyKey))
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id::int
            """)
        if let inserted { return inserted }
        return try await runner.value(Int.self, "SELECT id::int FROM platform.jobs WHERE idempotency_key = \(idempotencyKey)") ?? 0
    }

    /// Claims up to `limit` due jobs of the given kinds: their lease runs for the kind's duration, and until it ends
    /// no other worker sees them. One statement, committed before any work starts.
    func claim(leases: [String: Duration], limit: Int, worker: String) async throws -> [Job] {
        let kinds = Array(leases.keys)
        let seconds = kinds.map { Double(leases[$0]!.components.seconds) + Double(leases[$0]!.components.attoseconds) / 1e18 }
        let now = clock.now()
        return try await database.all(
            Job.self,
            """
            WITH due AS (
                SELECT id FROM platform.jobs
                WHERE status IN ('queued', 'running') AND run_at <= \(now) AND kind = ANY(\(kinds))
                ORDER BY run_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
            )
            UPDATE platform.jobs j SET status = 'running', attempts = j.attempts + 1, lease_token = gen_random_uuid(),
                leased_by = \(worker), run_at = \(now)::timestamptz + make_interval(secs => l.secs)
            FROM due, unnest(\(kinds)::text[], \(seconds)::float8[]) AS l(kind, secs)
            WHERE j.id = due.id AND l.kind = j.kind
            RETURNING \(unescaped: Job.columns)
            """)
    }

    /// The job is done. `false` when the lease was lost (it ran too long and another worker took it over).
    @discardableResult
    func complete(_ job: Job) async throws -> Bool {
        try await record(
            job,
            "status = 'done', finished_at = \(clock.now()), last_error = NULL, lease_token = NULL, leased_by = NULL")
    }

    /// The job failed this time and runs again after `delay`.
    @discardableResult
    func retry(_ job: Job, after delay: Duration, error: String, counted: Bool = true) async throws -> Bool {
        let when = clock.now().addingTimeInterval(Self.seconds(delay))
        let attempts = counted ? "attempts" : "greatest(attempts - 1, 0)"
        return try await record(
            job,
            """
            status = 'queued', run_at = \(when), last_error = \(Self.clip(error)), attempts = \(unescaped: attempts),
            lease_token = NULL, leased_by = NULL
            """)
    }

    /// The job failed for good: it stays, with its error, until someone retries it from the platform panel.
    @discardableResult
    func fail(_ job: Job, error: String) async throws -> Bool {
        try await record(
            job,
            "status = 'failed', finished_at = \(clock.now()), last_error = \(Self.clip(error)), lease_token = NULL, leased_by = NULL")
    }

    private func record(_ job: Job, _ assignments: PostgresQuery) async throws -> Bool {
        var query = PostgresQuery(unsafeSQL: "UPDATE platform.jobs SET ")
        query.sql += assignments.sql
        var binds = assignments.binds
        binds.append(job.id)
        binds.append(job.leaseToken)
        query.sql += " WHERE id = $\(binds.count - 1) AND lease_token = $\(binds.count) RETURNING 1"
        query.binds = binds
        let recorded = try await !database.rows(query).isEmpty
        if !recorded {
            logger.warning(
                "A job's lease ran out before its outcome was recorded", metadata: ["job_id": "\(job.id)", "kind": "\(job.kind)"])
        }
        return recorded
    }

    /// When a failed attempt runs again: exponential from `base`, at most `cap`, each delay drawn between half and all
    /// of its value, so jobs that failed together do not come back together.
    public static func backoff(
        attempt: Int, base: Duration = .seconds(5), cap: Duration = .seconds(3600), random: Double = Double.random(in: 0.5...1)
    ) -> Duration {
        let exponent = Double(max(0, min(attempt - 1, 30)))
        let full = min(seconds(cap), seconds(base) * pow(2, exponent))
        return .milliseconds(Int64(full * random * 1000))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func clip(_ text: String) -> String { String(text.prefix(2000)) }

    // MARK: The platform panel and /metrics

    /// Jobs that failed for good, newest first, and how many there are.
    public func failed(page: Int, perPage: Int = 50) async throws -> (jobs: [JobListing], total: Int) {
        let offset = (max(page, 1) - 1) * perPage
        let jobs = try await database.all(
            JobListing.self,
            """
            SELECT \(unescaped: JobListing.columns) FROM platform.jobs j LEFT JOIN platform.tenants t ON t.id = j.tenant_id
            WHERE j.status = 'failed' ORDER BY j.finished_at DESC, j.id DESC LIMIT \(perPage) OFFSET \(offset)
            """)
        let total = try await database.value(Int.self, "SELECT count(*)::int FROM platform.jobs WHERE status = 'failed'") ?? 0
        return (jobs, total)
    }

    /// Puts a failed job back in the queue with its attempts reset; returns its kind, or `nil` when there is no such
    /// failed job.
    public func retryFailed(id: Int, on runner: (any QueryRunner)? = nil) async throws -> String? {
        try await (runner ?? database).value(
            String.self,
            """
            UPDATE platform.jobs SET status = 'queued', attempts = 0, run_at = \(clock.now()), finished_at = NULL
            WHERE id = \(id) AND status = 'failed' RETURNING kind
            """)
    }

    /// Waiting, running and failed jobs by kind, and how late the oldest due one is.
    public func depth() async throws -> [JobQueueDepth] {
        try await database.all(
            JobQueueDepth.self,
            """
            SELECT kind, count(*) FILTER (WHERE status = 'queued')::int, count(*) FILTER (WHERE status = 'running')::int,
                count(*) FILTER (WHERE status = 'failed')::int,
                coalesce(extract(epoch FROM \(clock.now())::timestamptz - min(run_at) FILTER (WHERE status = 'queued'
                    AND run_at <= \(clock.now())))::float8, 0)
            FROM platform.jobs WHERE status <> 'done' GROUP BY kind ORDER BY kind
            """)
    }

    /// Forgets finished jobs after a week (their idempotency keys with them) and failed ones after 30 days.
    public func sweep() async throws {
        let now = clock.now()
        try await database.execute(
            """
            DELETE FROM platform.jobs WHERE (status = 'done' AND finished_at < \(now.addingTimeInterval(-7 * 86_400)))
                OR (status = 'failed' AND finished_at < \(now.addingTimeInterval(-30 * 86_400)))
            """)
    }
}

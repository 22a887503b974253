import Foundation
import PostgresNIO

/// Counts failed sign-ins per account and per client address. Past a threshold, every further attempt must wait,
/// longer after each failure; while a wait runs, no password is checked at all, so a correct one cannot skip it.
public struct LoginThrottle: Sendable {
    /// Failures on one account before waits start.
    public var accountThreshold = 5
    /// Failures from one address before waits start (higher: an office shares one address).
    public var addressThreshold = 20
    /// The first wait; each further failure doubles it, up to `maximumDelay`.
    public var baseDelay: Duration = .seconds(30)
    public var maximumDelay: Duration = .seconds(15 * 60)
    /// Failures older than this no longer count.
    public var window: Duration = .seconds(3600)

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static func keys(email: String, address: String?) -> [String] {
        ["account:" + email] + (address.map { ["address:" + $0] } ?? [])
    }

    /// What a reserved attempt may do.
    public struct Attempt: Sendable {
        /// A wait is running: refuse without checking the password, and say when to come back.
        public var refusedUntil: Date?
        /// If the password turns out wrong, the wait that then applies (this attempt was counted in advance).
        public var waitIfWrong: Date?
    }

    /// Counts this attempt as a failure before the password is checked, unless a wait is running. The rows are locked
    /// while counting, so parallel attempts queue: of 500 sent at once, only those before the threshold get a password
    /// check. A successful sign-in takes the count back with `succeeded`.
    public func reserve(email: String, address: String?) async throws -> Attempt {
        let keys = Self.keys(email: email, address: address)
        return try await database.transaction { transaction in
            try await transaction.execute(
                """
                INSERT INTO platform.login_failures (key, failures, last_failure_at)
                SELECT k, 0, now() FROM unnest(\(keys)::text[]) AS k ON CONFLICT (key) DO NOTHING
                """)
            let rows = try await transaction.values(
                (String, Int, Bool, Date?).self,
                """
                SELECT key, failures, last_failure_at < now() - make_interval(secs => \(Double(window.components.seconds))), locked_until
                FROM platform.login_failures WHERE key = ANY(\(keys)) ORDER BY key FOR UPDATE
                """)
            var counts: [(String, Int)] = []
            var running: Date?
            let now = Date()
            for (key, failures, stale, locked) in rows {
                if let locked, locked > now { running = max(running ?? locked, locked) }
                counts.append((key, stale ? 1 : failures + 1))
            }
            if let running { return Attempt(refusedUntil: running, waitIfWrong: nil) }
            var wait: Date?
            for (key, failures) in counts {
                let threshold = key.hasPrefix("account:") ? accountThreshold : addressThreshold
                var seconds: Double?
                if failures >= threshold {
                    let delay = Double(baseDelay.components.seconds) * pow(2, Double(min(failures - threshold, 20)))
                    seconds = min(Double(maximumDelay.components.seconds), delay)
                    let until = now.addingTimeInterval(seconds!)
                    wait = max(wait ?? until, until)
                }
                try await transaction.execute(
                    """
                    UPDATE platform.login_failures SET failures = \(failures), last_failure_at = now(),
                        locked_until = CASE WHEN \(seconds)::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => \(seconds)) END
                    WHERE key = \(key)
                    """)
            }
            return Attempt(refusedUntil: nil, waitIfWrong: wait)
        }
    }

    /// The password was right: the account's count (and any wait this attempt started) goes, and the address gets its
    /// attempt back.
    public func succeeded(email: String, address: String?) async throws {
        try await database.execute(
            """
            WITH account AS (DELETE FROM platform.login_failures WHERE key = \("account:" + email))
            UPDATE platform.login_failures SET failures = greatest(failures - 1, 0),
                locked_until = CASE WHEN failures - 1 < \(addressThreshold) THEN NULL ELSE locked_until END
            WHERE key = \("address:" + (address ?? ""))
            """)
    }

    /// Forgets failures a day old whose wait is over (run periodically).
    public func purgeOld() async throws {
        try await database.execute(
            """
            DELETE FROM platform.login_failures
            WHERE last_failure_at < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())
            """)
    }
}

import Foundation
import Logging
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

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static func keys(email: String, address: String?) -> [String] {
        ["account:" + email] + (address.map { ["address:" + $0] } ?? [])
    }

    /// When the next attempt may be made, if a wait is running for the account or the address.
    public func retryAfter(email: String, address: String?) async throws -> Date? {
        let rows = try await client.query(
            "SELECT max(locked_until) FROM platform.login_failures WHERE key = ANY(\(Self.keys(email: email, address: address))) AND locked_until > now()",
            logger: logger)
        for try await (until) in rows.decode(Date?.self) { return until }
        return nil
    }

    /// Counts a failure for the account and the address; returns when the next attempt may be made, if it must wait.
    @discardableResult
    public func recordFailure(email: String, address: String?) async throws -> Date? {
        let keys = Self.keys(email: email, address: address)
        let rows = try await client.query(
            """
            INSERT INTO platform.login_failures AS f (key, failures, last_failure_at)
            SELECT k, 1, now() FROM unnest(\(keys)::text[]) AS k
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN f.last_failure_at < now() - make_interval(secs => \(Double(window.components.seconds)))
                    THEN 1 ELSE f.failures + 1 END,
                last_failure_at = now()
            RETURNING key, failures
            """, logger: logger)
        var lockedUntil: Date?
        var locks: [(String, Double)] = []
        for try await (key, failures) in rows.decode((String, Int).self) {
            let threshold = key.hasPrefix("account:") ? accountThreshold : addressThreshold
            guard failures >= threshold else { continue }
            let seconds = min(
                Double(maximumDelay.components.seconds),
                Double(baseDelay.components.seconds) * pow(2, Double(min(failures - threshold, 20))))
            locks.append((key, seconds))
            let until = Date().addingTimeInterval(seconds)
            lockedUntil = max(lockedUntil ?? until, until)
        }
        for (key, seconds) in locks {
            try await client.query(
                "UPDATE platform.login_failures SET locked_until = now() + make_interval(secs => \(seconds)) WHERE key = \(key)",
                logger: logger)
        }
        return lockedUntil
    }

    /// Forgets the account's failures after a successful sign-in (the address keeps its count).
    public func reset(email: String) async throws {
        try await client.query("DELETE FROM platform.login_failures WHERE key = \("account:" + email)", logger: logger)
    }
}

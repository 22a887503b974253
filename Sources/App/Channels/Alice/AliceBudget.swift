import Foundation

/// Alice hangs up on a skill that is slow, so a turn's work races a deadline (`Deadline.race`): whichever comes first
/// answers, and work that is late goes on to its end (the bot's answer is stored and said on the next turn), never
/// cancelled.
enum AliceBudget {
    /// Asks `body` again every `interval` until it gives a value or the deadline is too near for another look.
    static func poll<T: Sendable>(
        until deadline: ContinuousClock.Instant, every interval: Duration = .milliseconds(150), _ body: () async throws -> T?
    ) async throws -> T? {
        while true {
            if let value = try await body() { return value }
            guard ContinuousClock.now + interval < deadline else { return nil }
            try await Task.sleep(for: interval)
        }
    }
}

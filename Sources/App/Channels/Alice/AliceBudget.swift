import Foundation
import Synchronization

/// Alice hangs up on a skill that is slow, so a turn's work races a deadline: whichever comes first answers, and work
/// that is late goes on to its end (the bot's answer is stored and said on the next turn), never cancelled.
enum AliceBudget {
    /// The work's result if it ends before `deadline`, else nil (the work goes on).
    static func race<T: Sendable>(_ work: Task<T, any Error>, until deadline: ContinuousClock.Instant) async -> Result<T, any Error>? {
        let waiting = Waiting<Result<T, any Error>?>()
        let resume: @Sendable (Result<T, any Error>?) -> Void = { waiting.resume($0) }
        var timer: Task<Void, Never>?
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>?, Never>) in
            waiting.set(continuation)
            // Neither task is a child: cancelling the timer (or the request) must not cancel the work.
            timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                resume(nil)
            }
            Task { resume(await work.result) }
        }
        timer?.cancel()
        return result
    }

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

/// A continuation resumed once, by whichever of several tasks comes first.
private final class Waiting<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    func set(_ value: CheckedContinuation<T, Never>) { continuation.withLock { $0 = value } }

    func resume(_ value: T) {
        continuation.withLock { continuation in
            continuation?.resume(returning: value)
            continuation = nil
        }
    }
}

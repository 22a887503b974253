import Foundation
import Synchronization

/// Waiting for work with a deadline, without cancelling the work: the caller goes on at the deadline, the work to its
/// end (Alice's late answer is stored and said next turn; a host look-up's thread ends on its own).
enum Deadline {
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

import Foundation
import Synchronization

@testable import App

/// A wall clock that moves only when the test says so: timing logic (leases, backoff, postponed jobs, check spacing) is
/// tested by moving it, never by sleeping.
final class ManualClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    var wall: WallClock { WallClock { [self] in now } }
}

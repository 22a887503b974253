import Foundation
import Synchronization

/// Circuit breakers by name (`<shop id>/<provider name>`): after `threshold` failures in a row a circuit opens for
/// `openFor` seconds, and its calls fail at once with `.circuitOpen(until:)`; then one trial call goes through
/// (half-open) and its outcome closes the circuit or opens it again. Only closed circuits with failures are kept.
final class CircuitBreakers: Sendable {
    /// What a call's outcome says about the provider.
    enum Outcome {
        /// It answered (even a refusal of the key: it is up).
        case answered
        /// It failed, timed out, or answered what cannot be read.
        case failed
        /// Nothing: the caller gave up.
        case unknown
    }

    private struct Circuit {
        var failures = 0
        var openUntil: Date?
        var trialOut = false
    }

    let threshold: Int
    let openFor: TimeInterval
    private let clock: WallClock
    private let circuits = Mutex<[String: Circuit]>([:])

    init(threshold: Int, openFor: TimeInterval, clock: WallClock) {
        self.threshold = max(1, threshold)
        self.openFor = openFor
        self.clock = clock
    }

    /// Lets a call through, saying whether it is the trial of an open circuit, or throws `.circuitOpen(until:)`.
    func admit(_ name: String) throws -> Bool {
        let now = clock.now()
        return try circuits.withLock { circuits in
            guard var circuit = circuits[name], let until = circuit.openUntil else { return false }
            if now < until || circuit.trialOut { throw ChatModelError.circuitOpen(until: max(until, now)) }
            circuit.trialOut = true
            circuits[name] = circuit
            return true
        }
    }

    /// Records a call's outcome; returns until when the circuit has just opened.
    @discardableResult
    func record(_ name: String, _ outcome: Outcome, trial: Bool) -> Date? {
        let now = clock.now()
        return circuits.withLock { circuits in
            switch outcome {
            case .answered:
                circuits[name] = nil
                return nil
            case .unknown:
                if trial { circuits[name]?.trialOut = false }
                return nil
            case .failed:
                var circuit = circuits[name] ?? Circuit()
                circuit.failures += 1
                var opened: Date?
                if trial || (circuit.openUntil == nil && circuit.failures >= threshold) {
                    opened = now.addingTimeInterval(openFor)
                    circuit.openUntil = opened
                    circuit.trialOut = false
                }
                circuits[name] = circuit
                return opened
            }
        }
    }
}

extension ChatModelError {
    /// Whether the error says the provider is failing (what a circuit counts), rather than refusing this key or model.
    var meansProviderFailing: Bool {
        switch self {
        case .unavailable, .timeout, .rateLimited, .malformed: true
        case .badKey, .quota, .modelMissing, .circuitOpen, .untrusted: false
        }
    }
}

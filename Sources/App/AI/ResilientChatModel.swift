import Foundation
import Logging
import Synchronization

/// A chat model as shoppers meet it: a transient failure is retried after a short wait (longer when the provider asks
/// for it) while the deadline allows, never once part of an answer has been streamed; and a circuit breaker leaves a
/// failing provider alone for a while, so that each shopper's message does not wait for it to fail again.
struct ResilientChatModel: ChatModel {
    let model: any ChatModel
    let circuit: String
    let breakers: CircuitBreakers
    /// The wait before each retry; as many retries as waits.
    let backoff: [Duration]
    /// The provider's own limit on a call, retries included (`LLMProvider.timeoutSeconds`): the caller's deadline may
    /// only cut it shorter.
    let timeout: Duration

    var name: String { model.name }

    func complete(
        _ request: ChatRequest, deadline: ContinuousClock.Instant, logger: Logger, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> ChatCompletion {
        let deadline = min(deadline, .now + timeout)
        let trial = try breakers.admit(circuit)
        do {
            let completion = try await withRetries(request, deadline: deadline, logger: logger, onDelta: onDelta)
            breakers.record(circuit, .answered, trial: trial)
            return completion
        } catch let error as ChatModelError {
            if let until = breakers.record(circuit, error.meansProviderFailing ? .failed : .answered, trial: trial) {
                logger.warning(
                    "Chat model's circuit opened",
                    metadata: ["model": "\(name)", "circuit": "\(circuit)", "until": "\(until)", "error": "\(error.description)"])
            }
            throw error
        } catch {
            breakers.record(circuit, .unknown, trial: trial)
            throw error
        }
    }

    private func withRetries(
        _ request: ChatRequest, deadline: ContinuousClock.Instant, logger: Logger, onDelta: (@Sendable (String) -> Void)?
    ) async throws -> ChatCompletion {
        let streamed = Streamed()
        var forward: (@Sendable (String) -> Void)?
        if let onDelta {
            forward = { piece in
                streamed.mark()
                onDelta(piece)
            }
        }
        var attempt = 0
        while true {
            do {
                return try await model.complete(request, deadline: deadline, logger: logger, onDelta: forward)
            } catch let error as ChatModelError where error.isTransient && attempt < backoff.count && !streamed.happened {
                var wait = backoff[attempt]
                if case .rateLimited(let after?) = error { wait = max(wait, .seconds(after)) }
                guard ContinuousClock.now + wait < deadline else { throw error }
                attempt += 1
                logger.notice(
                    "Chat model call failed; trying again",
                    metadata: ["model": "\(name)", "attempt": "\(attempt)", "wait": "\(wait)", "error": "\(error.description)"])
                try await Task.sleep(for: wait)
            }
        }
    }

    /// Whether any of the answer has reached the caller (a retry would say it twice).
    private final class Streamed: Sendable {
        private let flag = Atomic<Bool>(false)

        var happened: Bool { flag.load(ordering: .acquiring) }

        func mark() { flag.store(true, ordering: .releasing) }
    }
}

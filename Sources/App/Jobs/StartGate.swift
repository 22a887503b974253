import ServiceLifecycle
import Synchronization

/// Holds services back until the application is ready: a server's workers must not claim jobs or sweep tables before
/// `beforeServerStarts` has applied the migrations (on a new data folder the tables do not exist yet).
public final class StartGate: Sendable {
    private struct State {
        var open = false
        var nextID = 0
        var waiting: [Int: CheckedContinuation<Bool, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    public func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for continuation in waiting { continuation.resume(returning: true) }
    }

    /// `true` once the gate is open; `false` when the task is cancelled first.
    public func wait() async -> Bool {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let answer: Bool? = state.withLock { state in
                    if state.open { return true }
                    if state.cancelled.remove(id) != nil { return false }
                    state.waiting[id] = continuation
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let continuation = state.withLock { state in
                guard let continuation = state.waiting.removeValue(forKey: id) else {
                    if !state.open { state.cancelled.insert(id) }
                    return CheckedContinuation<Bool, Never>?.none
                }
                return continuation
            }
            continuation?.resume(returning: false)
        }
    }
}

/// A service that starts once its gate opens; a shutdown before then ends it without starting it.
struct GatedService: Service {
    let gate: StartGate
    let service: any Service

    func run() async throws {
        let opened = (try? await cancelWhenGracefulShutdown { await gate.wait() }) ?? false
        guard opened else { return }
        try await service.run()
    }
}

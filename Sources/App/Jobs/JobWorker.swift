import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// What a handler gets: the job, its tenant (resolved again through the directory, active), and a logger tagged with
/// both.
public struct JobContext: Sendable {
    public let job: Job
    public let tenant: TenantRecord?
    public let logger: Logger
}

/// The handlers of every job kind, registered once in the composition root.
public struct JobRegistry: Sendable {
    struct Handler: Sendable {
        let lease: Duration
        let run: @Sendable (JobContext) async throws -> Void
    }
    private(set) var handlers: [String: Handler] = [:]

    public init() {}

    /// Registers the handler of `Payload`'s kind. `lease` is how long a run may take before another worker may take
    /// the job over (a worker that died leaves its job for as long).
    public mutating func register<Payload: JobKind>(
        _ type: Payload.Type, lease: Duration = .seconds(60), _ run: @escaping @Sendable (Payload, JobContext) async throws -> Void
    ) {
        precondition(handlers[Payload.kind] == nil, "Two handlers for the job kind \(Payload.kind)")
        handlers[Payload.kind] = Handler(lease: lease) { context in try await run(try context.job.decode(Payload.self), context) }
    }

    var leases: [String: Duration] { handlers.mapValues(\.lease) }
}

/// Runs the queue's jobs: any number of processes (`vitrina serve`, `vitrina work`) run one, each claiming due jobs
/// with a lease. Woken by `NOTIFY vitrina_jobs` on a dedicated connection, with a periodic look as a backstop (jobs
/// also become due by time: retries, postponed jobs, leases that ran out). On shutdown it claims nothing more and lets
/// the jobs it holds finish.
public struct JobWorker: Service {
    let queue: JobQueue
    let registry: JobRegistry
    let directory: TenantDirectory
    let database: Database
    let concurrency: Int
    let pollInterval: Duration
    /// How long a job of a suspended shop waits before it is looked at again.
    let suspendedDelay: Duration
    let name: String
    let logger: Logger

    public init(
        queue: JobQueue, registry: JobRegistry, directory: TenantDirectory, database: Database, concurrency: Int = 4,
        pollInterval: Duration = .seconds(5), suspendedDelay: Duration = .seconds(3600), logger: Logger
    ) {
        self.queue = queue
        self.registry = registry
        self.directory = directory
        self.database = database
        self.concurrency = max(1, concurrency)
        self.pollInterval = pollInterval
        self.suspendedDelay = suspendedDelay
        self.name = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(Int.random(in: 1000...9999))"
        self.logger = logger
    }

    public func run() async throws {
        guard !registry.handlers.isEmpty else {
            // Nothing to run here (no mail server configured, say): stay until the group shuts down.
            try? await gracefulShutdown()
            return
        }
        let (wakeups, waker) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Listener(database: database, channel: JobQueue.channel, logger: logger).run { _ in waker.yield() }
            }
            group.addTask {
                await Periodic.run(every: pollInterval) { waker.yield() }
                waker.finish()
            }
            group.addTask {
                for await _ in wakeups.cancelOnGracefulShutdown() { await runDue() }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Claims and runs due jobs, `concurrency` at a time, until none is due and none runs; returns how many ran. A slot
    /// is refilled as soon as its job ends (a slow job never holds back the others' successors, and the jobs a finished
    /// one queued, such as an answer's delivery, start at once).
    @discardableResult
    public func runDue() async -> Int {
        await withTaskGroup(of: Void.self) { group in
            var total = 0
            var running = 0
            var lookAgain = true
            while !Task.isCancelledOrShuttingDown {
                if lookAgain, running < concurrency {
                    let free = concurrency - running
                    let jobs: [Job]
                    do {
                        jobs = try await queue.claim(leases: registry.leases, limit: free, worker: name)
                    } catch {
                        logger.error("Job queue: could not claim jobs", metadata: ["error": "\(databaseMessage(error))"])
                        jobs = []
                    }
                    for job in jobs { group.addTask { await perform(job) } }
                    running += jobs.count
                    total += jobs.count
                    // A full claim may have left more behind (claimed when a slot frees); a short one found all that is due.
                    lookAgain = jobs.count == free
                }
                guard running > 0 else { break }
                await group.next()
                running -= 1
                // A job that ended may have queued another (a bot's answer, its delivery).
                lookAgain = true
            }
            await group.waitForAll()
            return total
        }
    }

    /// Runs one job and records what happened. Errors never escape: each outcome is a row in `platform.jobs`.
    func perform(_ job: Job) async {
        var logger = self.logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "job_kind"] = "\(job.kind)"
        let started = DispatchTime.now().uptimeNanoseconds
        let outcome: String
        do {
            outcome = try await execute(job, logger: logger)
        } catch {
            logger.error("Job queue: recording a job's outcome failed", metadata: ["error": "\(databaseMessage(error))"])
            outcome = "unrecorded"
        }
        Counter(label: "vitrina_jobs_total", dimensions: [("kind", job.kind), ("outcome", outcome)]).increment()
        Metrics.Timer(label: "vitrina_job_duration_seconds", dimensions: [("kind", job.kind)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
    }

    private func execute(_ job: Job, logger: Logger) async throws -> String {
        guard let handler = registry.handlers[job.kind] else {
            try await queue.fail(job, error: "No handler for the job kind \(job.kind).")
            return "failed"
        }
        var tenant: TenantRecord?
        var logger = logger
        if let tenantID = job.tenantID {
            // The job carries only the tenant's id: it is resolved again here, and the door checks it again.
            tenant = try await directory.tenant(id: tenantID)
            logger[metadataKey: "tenant_id"] = "\(tenantID.uuidString.lowercased())"
            switch tenant?.status {
            case .active?: break
            case .suspended?:
                try await queue.retry(job, after: suspendedDelay, error: "The shop is suspended; the job waits.", counted: false)
                return "postponed"
            default:
                try await queue.fail(job, error: "The shop was deleted.")
                return "failed"
            }
        }
        do {
            try await handler.run(JobContext(job: job, tenant: tenant, logger: logger))
            try await queue.complete(job)
            return "done"
        } catch let unavailable as TenantUnavailable {
            try await queue.retry(job, after: suspendedDelay, error: unavailable.description, counted: false)
            return "postponed"
        } catch JobFailure.permanent(let message) {
            logger.warning("Job failed for good", metadata: ["error": "\(message)"])
            try await queue.fail(job, error: message)
            return "failed"
        } catch JobFailure.retryAfter(let delay, let message) {
            try await queue.retry(job, after: delay, error: message, counted: false)
            return "postponed"
        } catch {
            let message = String(describing: error)
            if job.isLastAttempt {
                logger.warning("Job failed for good after \(job.attempt) attempts", metadata: ["error": "\(message)"])
                try await queue.fail(job, error: message)
                return "failed"
            }
            let delay = JobQueue.backoff(attempt: job.attempt)
            logger.notice("Job failed; it runs again", metadata: ["error": "\(message)", "in": "\(delay)"])
            try await queue.retry(job, after: delay, error: message)
            return "retried"
        }
    }
}

/// `LISTEN` on a dedicated connection, calling `notified` for every notification and once each time listening starts
/// (anything that happened while not listening is picked up then). Reconnects with a growing wait when the connection
/// drops; returns on shutdown.
struct Listener: Sendable {
    let database: Database
    let channel: String
    let logger: Logger

    /// Calls `notified` with each notification's payload, and with `nil` whenever listening (re)starts, since what was
    /// sent while nobody listened is lost: a caller that caches must treat `nil` as "anything may have changed".
    /// `connected(false)` says listening stopped (a lost connection, shutdown).
    func run(connected: @escaping @Sendable (Bool) -> Void = { _ in }, _ notified: @escaping @Sendable (String?) -> Void) async {
        defer { connected(false) }
        var backoff: Duration = .milliseconds(250)
        while !Task.isCancelledOrShuttingDown {
            do {
                let connection = try await database.connect()
                do {
                    try await connection.listen(on: channel) { notifications in
                        notified(nil)
                        connected(true)
                        backoff = .milliseconds(250)
                        for try await notification in notifications.cancelOnGracefulShutdown() { notified(notification.payload) }
                    }
                    connected(false)
                    try? await connection.close()
                } catch {
                    connected(false)
                    try? await connection.close()
                    throw error
                }
            } catch {
                if Task.isCancelledOrShuttingDown { return }
                logger.warning(
                    "Listening for \(channel) lost its connection; retrying", metadata: ["error": "\(databaseMessage(error))"])
            }
            do { try await Task.sleep(for: backoff) } catch { return }
            backoff = min(backoff * 2, .seconds(10))
        }
    }
}

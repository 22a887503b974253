import Foundation
import Synchronization
import Testing

@testable import App

/// A job kind for the tests: its handler does what `Script` says for its number.
struct TestJob: JobKind {
    static let kind = "test.job"
    let number: Int
}

/// What the test handler does and what it saw.
final class Script: Sendable {
    enum Outcome: Sendable { case succeed, fail, failForGood }
    private let state = Mutex<(runs: [Int: Int], outcome: Outcome)>(([:], .succeed))

    var outcome: Outcome {
        get { state.withLock { $0.outcome } }
        set { state.withLock { $0.outcome = newValue } }
    }
    var runs: [Int: Int] { state.withLock { $0.runs } }

    struct Transient: Error {}

    func handle(_ job: TestJob) async throws {
        let outcome = state.withLock { state in
            state.runs[job.number, default: 0] += 1
            return state.outcome
        }
        // Long enough for two workers' claims to overlap.
        try await Task.sleep(for: .milliseconds(5))
        switch outcome {
        case .succeed: return
        case .fail: throw Transient()
        case .failForGood: throw JobFailure.permanent("refused for good")
        }
    }
}

extension TestEnvironment {
    func worker(_ script: Script, lease: Duration = .seconds(60), concurrency: Int = 4) -> JobWorker {
        var registry = JobRegistry()
        registry.register(TestJob.self, lease: lease) { job, _ in try await script.handle(job) }
        return JobWorker(
            queue: services.jobs, registry: registry, directory: services.directory, database: services.database,
            concurrency: concurrency, logger: TestDatabase.logger)
    }

    func job(_ id: Int) async throws -> (status: String, attempts: Int, runAt: Date, error: String?) {
        try #require(
            try await services.database.value(
                (String, Int, Date, String?).self, "SELECT status, attempts, run_at, last_error FROM platform.jobs WHERE id = \(id)"))
    }
}

@Suite("The job queue")
struct JobQueueTests {
    @Test func twoWorkersNeverRunTheSameJob() async throws {
        let clock = ManualClock()
        try await TestEnvironment.with(clock: clock.wall) { env in
            for number in 1...60 { try await env.services.jobs.enqueue(TestJob(number: number)) }
            let script = Script()
            let (first, second) = (env.worker(script), env.worker(script))
            async let a = first.runDue()
            async let b = second.runDue()
            let (ranA, ranB) = await (a, b)
            #expect(ranA + ranB == 60)
            #expect(ranA > 0 && ranB > 0)
            #expect(script.runs.count == 60 && script.runs.values.allSatisfy { $0 == 1 })
            #expect(try await env.scalar("SELECT count(*)::int FROM platform.jobs WHERE status = 'done'", as: Int.self) == 60)
        }
    }

    @Test func aKilledWorkersJobRunsAgainAfterItsLease() async throws {
        let clock = ManualClock()
        try await TestEnvironment.with(clock: clock.wall) { env in
            let id = try await env.services.jobs.enqueue(TestJob(number: 1))
            // A worker claims it and dies: it never records an outcome.
            let claimed = try await env.services.jobs.claim(leases: [TestJob.kind: .seconds(60)], limit: 10, worker: "gone")
            #expect(claimed.map(\.id) == [id])
            let script = Script()
            let worker = env.worker(script)
            #expect(await worker.runDue() == 0)  // still leased
            clock.advance(by: 59)
            #expect(await worker.runDue() == 0)
            clock.advance(by: 2)
            #expect(await worker.runDue() == 1)
            #expect(script.runs[1] == 1)
            #expect(try await env.job(id).status == "done")
            #expect(try await env.job(id).attempts == 2)
            // The dead worker's claim no longer counts: it cannot record anything now.
            #expect(try await env.services.jobs.fail(claimed[0], error: "late") == false)
            #expect(try await env.job(id).status == "done")
        }
    }

    @Test func aFailedJobRunsAgainAfterABackoffWithJitter() async throws {
        let clock = ManualClock()
        try await TestEnvironment.with(clock: clock.wall) { env in
            let id = try await env.services.jobs.enqueue(TestJob(number: 7))
            let script = Script()
            script.outcome = .fail
            let worker = env.worker(script)
            var delays: [TimeInterval] = []
            for attempt in 1...3 {
                #expect(await worker.runDue() == 1)
                let job = try await env.job(id)
                #expect(job.status == "queued" && job.attempts == attempt && job.error?.contains("Transient") == true)
                let delay = job.runAt.timeIntervalSince(clock.now)
                // 5 s doubling, each drawn between half and all of it.
                let full = 5 * pow(2, Double(attempt - 1))
                #expect(delay >= full / 2 - 0.01 && delay <= full + 0.01, "attempt \(attempt): \(delay) s")
                delays.append(delay)
                #expect(await worker.runDue() == 0)  // not due yet
                clock.advance(by: delay + 0.001)
            }
            script.outcome = .succeed
            #expect(await worker.runDue() == 1)
            #expect(try await env.job(id).status == "done")
            #expect(JobQueue.backoff(attempt: 30, random: 1) == .seconds(3600))
        }
    }

    @Test func aPermanentFailureIsKeptListedAndRetriedByHand() async throws {
        let clock = ManualClock()
        try await TestEnvironment.with(clock: clock.wall) { env in
            let refused = try await env.services.jobs.enqueue(TestJob(number: 1))
            let exhausted = try await env.services.jobs.enqueue(TestJob(number: 2), maxAttempts: 2)
            let script = Script()
            script.outcome = .failForGood
            let worker = env.worker(script)
            #expect(await worker.runDue() == 2)
            #expect(try await env.job(refused).status == "failed")
            #expect(try await env.job(refused).error == "refused for good")
            // The other one fails for good on its last attempt.
            script.outcome = .fail
            #expect(try await env.services.jobs.retryFailed(id: exhausted) != nil)
            #expect(await worker.runDue() == 1)
            #expect(try await env.job(exhausted).status == "queued")
            clock.advance(by: 10)
            #expect(await worker.runDue() == 1)
            #expect(try await env.job(exhausted).status == "failed")
            let (listed, total) = try await env.services.jobs.failed(page: 1)
            #expect(total == 2 && Set(listed.map(\.id)) == [refused, exhausted])
            // Retried by hand: its attempts start again, and it runs.
            script.outcome = .succeed
            #expect(try await env.services.jobs.retryFailed(id: refused) == TestJob.kind)
            #expect(try await env.services.jobs.retryFailed(id: refused) == nil)  // not failed any more
            #expect(await worker.runDue() == 1)
            #expect(try await env.job(refused).status == "done")
        }
    }

    @Test func theSameIdempotencyKeyMakesOneJob() async throws {
        try await TestEnvironment.with { env in
            let first = try await env.services.jobs.enqueue(TestJob(number: 1), idempotencyKey: "update-42")
            let second = try await env.services.jobs.enqueue(TestJob(number: 2), idempotencyKey: "update-42")
            #expect(first == second)
            #expect(try await env.scalar("SELECT count(*)::int FROM platform.jobs", as: Int.self) == 1)
        }
    }

    @Test func aJobForASuspendedShopWaitsAndWritesNothing() async throws {
        let clock = ManualClock()
        try await TestEnvironment.with(clock: clock.wall) { env in
            let scope = try await env.makeTenant("acme")
            try await env.services.directory.reload()
            // The handler writes into the shop through the door.
            var registry = JobRegistry()
            registry.register(TestJob.self) { job, context in
                let tenant = try #require(context.tenant)
                _ = try await env.services.tenants.withTenant(tenant, logger: context.logger) { connection in
                    try await env.services.articles.upsert(
                        HelpArticle(slug: "job-\(job.number)", title: "From a job", body: "B"), on: connection)
                }
            }
            let worker = JobWorker(
                queue: env.services.jobs, registry: registry, directory: env.services.directory, database: env.services.database,
                logger: TestDatabase.logger)
            let articles = { try await env.withTenant(scope, admitting: .anyLive) { try await env.services.articles.all(on: $0).count } }

            // Suspended, and the directory knows it: the job waits an hour without counting an attempt.
            try await env.provisioner.perform(.suspend, slug: "acme")
            try await env.services.directory.reload()
            let known = try await env.services.jobs.enqueue(TestJob(number: 1), tenant: scope.id)
            #expect(await worker.runDue() == 1)
            var job = try await env.job(known)
            #expect(job.status == "queued" && job.attempts == 0 && job.error?.contains("suspended") == true)
            #expect(job.runAt.timeIntervalSince(clock.now) == 3600)
            #expect(try await articles() == 0)

            // The directory says active, the database says suspended (another process suspended it a moment ago): the
            // door checks the database, refuses the write, and the job waits.
            try await env.provisioner.perform(.resume, slug: "acme")
            try await env.services.directory.reload()
            try await env.provisioner.perform(.suspend, slug: "acme")
            clock.advance(by: 3601)
            #expect(await worker.runDue() == 1)
            job = try await env.job(known)
            #expect(job.status == "queued" && job.attempts == 0)
            #expect(try await articles() == 0)

            // Active again: it runs, once.
            try await env.provisioner.perform(.resume, slug: "acme")
            try await env.services.directory.reload()
            clock.advance(by: 3601)
            #expect(await worker.runDue() == 1)
            #expect(try await env.job(known).status == "done")
            #expect(try await articles() == 1)

            // A deleted shop's job fails for good.
            try await env.provisioner.perform(.delete, slug: "acme")
            try await env.services.directory.reload()
            let late = try await env.services.jobs.enqueue(TestJob(number: 2), tenant: scope.id)
            #expect(await worker.runDue() == 1)
            #expect(try await env.job(late).status == "failed")
        }
    }

    @Test func aRunningWorkerIsWokenByTheQueuesNotification() async throws {
        try await TestEnvironment.with { env in
            let script = Script()
            // A long poll: only the notification can wake it in time.
            var registry = JobRegistry()
            registry.register(TestJob.self) { job, _ in try await script.handle(job) }
            let worker = JobWorker(
                queue: env.services.jobs, registry: registry, directory: env.services.directory, database: env.services.database,
                pollInterval: .seconds(3600), logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                try await DomainTests.eventually {
                    // The cluster is shared with other suites: count this database's listeners on the queue's channel only.
                    try await env.scalar(
                        "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%vitrina_jobs%'",
                        as: Int.self) == 1
                }
                try await env.services.jobs.enqueue(TestJob(number: 5))
                try await DomainTests.eventually { script.runs[5] == 1 }
                group.cancelAll()
            }
        }
    }
}

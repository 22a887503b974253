import App
import ArgumentParser
import Foundation

/// `vitrina migrate`: platform schema, then every tenant schema.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending migrations to the platform schema, then to every tenant schema.",
        discussion: "Failing tenants are recorded and listed at the end; the exit code is then 1.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await Runtime.run {
            let started = ContinuousClock.now
            let report = try await Runtime.withServices(options) { services in
                let progress = Progress()
                return try await services.migrator.migrate { event in progress.show(event) }
            }
            let elapsed = ContinuousClock.now - started
            let seconds = String(format: "%.2f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            if report.nothingToDo {
                say("Nothing to migrate: platform current, \(report.tenantsTotal) tenant schema(s) current (\(seconds) s).")
                return
            }
            say(
                "Migrated: \(report.platformApplied.count) platform migration(s), \(report.tenantsMigrated) of \(report.tenantsTotal) tenant schema(s) in \(seconds) s."
            )
            if !report.failures.isEmpty {
                say("\(report.failures.count) tenant(s) failed (recorded in platform.tenants.migration_error):")
                for failure in report.failures { say("  \(failure.slug): \(failure.message)") }
                throw ExitCode(1)
            }
        }
    }
}

/// Progress on the terminal: a live counter on a TTY, a line every tenth otherwise.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal = isatty(STDOUT_FILENO) == 1

    func show(_ event: MigrationEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .waitingForLock:
            say("Another migrator is running; waiting for it to finish…")
        case .platformApplied(let version, let name):
            say("Platform: applied \(String(format: "%04d", version))_\(name)")
        case .tenantsStarting(let behind, let total):
            say("Tenants: \(behind) of \(total) schema(s) to migrate")
        case .tenantFinished(let slug, let error, let done, let total):
            if let error { say((isTerminal ? "\r" : "") + "  \(slug) failed: \(error)") }
            if isTerminal {
                say("\r  \(done)/\(total) (\(done * 100 / max(total, 1))%)", terminator: done == total ? "\n" : "")
                FileHandle.standardOutput.synchronizeFile()
            } else if done == total || done % max(total / 10, 1) == 0 {
                say("  \(done)/\(total)")
            }
        }
    }
}

import App
import ArgumentParser
import Foundation

/// `vitrina secrets …`: the secrets kept sealed at rest (model keys, widgets' identity secrets) and their key.
struct Secrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count the secrets sealed at rest by key, or re-seal them all under the current key.",
        subcommands: [Rotate.self, Status.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every sealed value (platform, then each tenant) under the current key.",
            discussion: """
                With VITRINA_SECRET_KEY: set the new key there, put the old one in VITRINA_OLD_SECRET_KEYS, restart \
                the servers, run this, then drop VITRINA_OLD_SECRET_KEYS. With the data folder's key file: --new-key \
                writes a fresh one and keeps the old as secret.key.<id>.old: running servers still seal with the old key \
                until they restart, so restart them and run this again, which retires it. A value no key opens is listed and left as it is; the exit code is then 1. Idempotent.
                """)
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Count what would be re-sealed; change nothing.") var dryRun = false
        @Flag(help: "First replace <data>/secret.key with a fresh key (only without VITRINA_SECRET_KEY).") var newKey = false
        @Flag(help: "Keep the data folder's old key files after success (a later run retires them).") var keepOld = false
        @Option(help: "Print progress every N tenants.") var every = 100

        func run() async throws {
            try await Runtime.run {
                let config = try Runtime.configuration(options)
                guard every > 0 else { throw CLIError.usage("--every takes a number above 0.") }
                let files = SecretKeyFiles(dataDirectory: config.absoluteDataDirectory)
                if newKey {
                    guard !dryRun else { throw CLIError.usage("--dry-run changes nothing; it cannot go with --new-key.") }
                    guard config.secretKey == nil else {
                        throw CLIError.usage(
                            "VITRINA_SECRET_KEY is set, so --new-key has no file to replace: set the new key in VITRINA_SECRET_KEY, the old one in VITRINA_OLD_SECRET_KEYS, and run `vitrina secrets rotate`."
                        )
                    }
                    let (old, new) = try files.replace()
                    say("New key \(new) written to \(files.keyPath); the old key \(old) is kept aside until every value is re-sealed.")
                }
                let report = try await Runtime.withServices(options) { services in
                    say(Secrets.keys(services.secrets))
                    return try await services.secretRotation.rotate(
                        // A new key never retires the old one in the same run: servers started before it still seal
                        // with the old key until they restart, and what they seal must stay readable.
                        dryRun: dryRun, retiring: keepOld || newKey ? nil : files, progressEvery: every,
                        progress: { Secrets.show($0, dryRun: dryRun) })
                }
                for place in report.places { say("  " + Secrets.line(place, dryRun: dryRun)) }
                for value in report.unreadable { say("  unreadable: \(value)") }
                say(
                    (dryRun ? "Dry run: \(report.resealed) value(s) would be re-sealed" : "\(report.resealed) value(s) re-sealed")
                        + ", \(report.current) already current, \(report.unreadable.count) unreadable (\(report.tenants) tenant(s)"
                        + (report.failures.isEmpty ? ")." : ", \(report.failures.count) failed)."))
                for failure in report.failures { say("  failed: \(failure)") }
                guard report.succeeded else {
                    say("What could not be read was left as it was; the old keys stay in use until a run ends with nothing left over.")
                    throw ExitCode(1)
                }
                guard !dryRun else { return }
                if !report.retired.isEmpty { say("Retired the old key file(s): \(report.retired.joined(separator: ", ")).") }
                if keepOld || newKey, !files.oldKeyPaths().isEmpty {
                    say("Old key files kept: restart the servers, then run `vitrina secrets rotate` again to retire them.")
                }
                if !config.oldSecretKeys.isEmpty {
                    say("Every value is under the current key: remove VITRINA_OLD_SECRET_KEYS and restart the servers.")
                }
                if newKey || !report.retired.isEmpty {
                    say("Restart `vitrina serve` and `vitrina work`: they read the key when they start.")
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count the sealed values by place and key id (never printing a secret).",
            discussion: "A key is current (values are sealed with it), older (still opened) or unknown (its values cannot be read).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await Runtime.run {
                let status = try await Runtime.withServices(options) { services in
                    say(Secrets.keys(services.secrets))
                    return try await services.secretRotation.status { Secrets.show($0, dryRun: true) }
                }
                if status.rows.isEmpty {
                    say("No sealed values (\(status.tenants) tenant(s)).")
                } else {
                    printTable(
                        [["PLACE", "KEY", "STANDING", "VALUES", "TENANTS"]]
                            + status.rows.map {
                                [
                                    $0.place.description, $0.keyID, $0.standing.rawValue, String($0.values),
                                    $0.place.scope == .tenant ? String($0.tenants) : "-",
                                ]
                            })
                }
                let older = status.count(.older), unknown = status.count(.unknown)
                if older > 0 { say("\(older) value(s) under older keys: run `vitrina secrets rotate`.") }
                if unknown > 0 { say("\(unknown) value(s) under keys this installation does not hold: they cannot be read.") }
                if older == 0, unknown == 0, status.failures.isEmpty, !status.rows.isEmpty { say("Every value is under the current key.") }
                if !status.failures.isEmpty { throw ExitCode(1) }
            }
        }
    }

    /// The ring's key ids (never a key).
    static func keys(_ ring: SecretBox) -> String {
        "Current key \(ring.keyID)"
            + (ring.olderKeyIDs.isEmpty ? "; no older keys." : "; older keys: \(ring.olderKeyIDs.joined(separator: ", ")).")
    }

    /// One place's counts.
    static func line(_ counts: SecretRotation.Counts, dryRun: Bool) -> String {
        "\(counts.place): \(counts.resealed) \(dryRun ? "to re-seal" : "re-sealed"), \(counts.current) current, "
            + "\(counts.unreadable.count) unreadable"
    }

    /// Progress lines: each platform place, the tenants every N, and each tenant that failed.
    static func show(_ event: SecretRotation.Event, dryRun: Bool) {
        switch event {
        case .place(_, let counts):
            say(line(counts, dryRun: dryRun))
        case .tenantsStarting(let total):
            say("Tenants: \(total)")
        case .tenantsDone(let done, let total):
            say("  \(done)/\(total)")
        case .tenantFailed(let failure):
            say("  failed: \(failure)")
        }
    }
}

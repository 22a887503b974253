import Foundation
import Logging
import PostgresNIO

/// `vitrina secrets rotate` and `status`: every sealed value (`SealedPlace.all`) in the platform schema and in each
/// tenant's schema, re-sealed under the ring's current key or counted by key id. Each tenant is its own short
/// transaction through the door (scoped, as migrations are, so suspended and deleted shops' secrets move too); a
/// tenant that fails is reported and the others go on. Nothing here ever prints or logs a secret: values are named by
/// place, row key and key id.
public struct SecretRotation: Sendable {
    let database: Database
    let secrets: SecretBox
    let logger: Logger

    public init(database: Database, secrets: SecretBox, logger: Logger) {
        self.database = database
        self.secrets = secrets
        self.logger = logger
    }

    /// Re-seals every value not under the current key (`dryRun`: only counts). A value that cannot be opened is
    /// reported and left as it is. Running it again changes nothing. When every value is under the current key at the
    /// end (and it is no dry run), the old key files of `retiring` are deleted: nothing needs them any more.
    public func rotate(
        dryRun: Bool = false, retiring files: SecretKeyFiles? = nil, progressEvery: Int = 100,
        progress: @Sendable (Event) -> Void = { _ in }
    ) async throws -> Report {
        var report = try await resealAll(dryRun: dryRun, progressEvery: progressEvery, progress: progress)
        if let files, !dryRun, report.succeeded { report.retired = try files.retire() }
        return report
    }

    func resealAll(dryRun: Bool, progressEvery: Int, progress: @Sendable (Event) -> Void) async throws -> Report {
        var report = Report()
        for place in SealedPlace.platform {
            let counts = try await transaction(readOnly: dryRun) { transaction in
                try await reseal(place, tenant: nil, on: transaction, dryRun: dryRun)
            }
            report.add(counts)
            progress(.place(place, counts))
        }
        let tenants = try await liveTenants()
        progress(.tenantsStarting(tenants.count))
        for (index, tenant) in tenants.enumerated() {
            do {
                let counts = try await transaction(readOnly: dryRun) { transaction in
                    try await TenantDatabase.scoped(transaction, tenant.scope, lockTimeout: "10s") { door in
                        var all: [Counts] = []
                        for place in SealedPlace.tenant {
                            all.append(try await reseal(place, tenant: tenant.slug, on: door, dryRun: dryRun))
                        }
                        return all
                    }
                }
                counts.forEach { report.add($0) }
            } catch {
                let failure = TenantFailure(slug: tenant.slug, message: databaseMessage(error))
                report.failures.append(failure)
                progress(.tenantFailed(failure))
            }
            report.tenants += 1
            if (index + 1) % max(progressEvery, 1) == 0 || index + 1 == tenants.count {
                progress(.tenantsDone(index + 1, of: tenants.count))
            }
        }
        return report
    }

    /// Sealed values by place and key id (opened nowhere: the key id is read from the text before its dot).
    public func status(progress: @Sendable (Event) -> Void = { _ in }) async throws -> Status {
        var status = Status(currentKeyID: secrets.keyID, olderKeyIDs: secrets.olderKeyIDs)
        for place in SealedPlace.platform {
            let counts = try await transaction(readOnly: true) { try await place.countByKey(on: $0) }
            for (keyID, count) in counts { status.add(place, keyID: keyID, standing: secrets.standing(of: keyID), count: count) }
        }
        let tenants = try await liveTenants()
        progress(.tenantsStarting(tenants.count))
        for (index, tenant) in tenants.enumerated() {
            do {
                let counts = try await transaction(readOnly: true) { transaction in
                    try await TenantDatabase.scoped(transaction, tenant.scope, lockTimeout: "10s") { door in
                        var all: [(SealedPlace, String, Int)] = []
                        for place in SealedPlace.tenant {
                            all += try await place.countByKey(on: door).map { (place, $0.keyID, $0.count) }
                        }
                        return all
                    }
                }
                for (place, keyID, count) in counts {
                    status.add(place, keyID: keyID, standing: secrets.standing(of: keyID), count: count, tenant: true)
                }
            } catch {
                let failure = TenantFailure(slug: tenant.slug, message: databaseMessage(error))
                status.failures.append(failure)
                progress(.tenantFailed(failure))
            }
            status.tenants += 1
        }
        return status
    }

    /// Re-seals one place's values inside the caller's transaction.
    func reseal(_ place: SealedPlace, tenant: String?, on runner: some QueryRunner, dryRun: Bool) async throws -> Counts {
        var counts = Counts(place: place)
        for (row, sealed) in try await place.values(on: runner, lock: !dryRun) {
            let fresh: String?
            do {
                fresh = try secrets.reseal(sealed)
            } catch {
                let reason = (error as? SecretBoxError) ?? .malformed
                counts.unreadable.append(
                    Unreadable(place: place, tenant: tenant, row: row, keyID: SecretBox.keyID(of: sealed), reason: reason))
                continue
            }
            guard let fresh else {
                counts.current += 1
                continue
            }
            if !dryRun { try await place.replace(row: row, old: sealed, new: fresh, on: runner) }
            counts.resealed += 1
        }
        return counts
    }

    /// Every tenant whose schema exists (active, suspended, deleted in its grace period), by slug.
    func liveTenants() async throws -> [(slug: String, scope: TenantScope)] {
        try await database.values(
            (UUID, String, String).self,
            "SELECT id, slug, schema_name FROM platform.tenants WHERE status <> 'purged' AND schema_name IS NOT NULL ORDER BY slug"
        ).compactMap { id, slug, schema in SchemaName(schema).map { (slug, TenantScope(id: id, schema: $0)) } }
    }

    func transaction<T: Sendable>(readOnly: Bool, _ body: (Transaction) async throws -> T) async throws -> T {
        try await database.withConnection { connection in
            try await Transaction.run(on: connection, logger: logger, begin: readOnly ? "BEGIN READ ONLY" : "BEGIN", body)
        }
    }
}

extension AppServices {
    /// Re-sealing and counting the installation's sealed values under its key ring.
    public var secretRotation: SecretRotation { SecretRotation(database: database, secrets: secrets, logger: logger) }
}

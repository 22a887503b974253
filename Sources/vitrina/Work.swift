import App
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// `vitrina work`: the job workers and the periodic work (domain checks, sweeps) without the web server, so an
/// installation can run as many of each as it needs (`vitrina serve --no-workers` is the other half).
struct Work: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the job workers and periodic work without the web server.",
        discussion: "Any number of `work` and `serve` processes share the job queue in the database; each job runs once.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await Runtime.run {
            let config = try Runtime.configuration(options)
            let logger = Runtime.logger(config, console: false)
            let (database, embedded) = try await Runtime.openDatabase(config, logger: logger)
            defer { embedded?.stop() }
            _ = Observability.bootstrapMetrics()
            let services = try await AppServices.make(configuration: config, database: database, logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        .init(service: database.client), .init(service: services.http),
                        .init(service: WorkerStart(services: services)),
                    ],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

/// Waits for the database's migrations to be current and the directory to load, then runs the workers and the
/// directory's refresher until shutdown.
struct WorkerStart: Service {
    let services: AppServices

    func run() async throws {
        try await services.migrator.verifyTenantFiles()
        try await services.directory.reload()
        services.logger.notice("Workers started", metadata: ["concurrency": "\(services.configuration.jobConcurrency)"])
        try await withThrowingDiscardingTaskGroup { group in
            for service in services.workers() + [services.directoryRefresher] {
                group.addTask { try await service.run() }
            }
        }
    }
}

import Crypto
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import App

/// A fresh database per test, copied from a template that already holds the platform migrations.
///
/// The server comes from `VITRINA_TEST_DATABASE_URL` (set by `make test`, which starts a throwaway cluster); without
/// it, an embedded cluster under `.build/vitrina-test-postgres` is started and left running for the next run.
enum TestDatabase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }()

    private static let serverTask = Task<DatabaseURL, any Error> {
        if let url = ProcessInfo.processInfo.environment["VITRINA_TEST_DATABASE_URL"], !url.isEmpty {
            return try DatabaseURL(url)
        }
        let embedded = EmbeddedPostgres(dataDirectory: packageRoot + "/.build/vitrina-test-postgres", logger: logger)
        return try await embedded.start()
    }

    private static let templateTask = Task<String, any Error> {
        let server = try await serverTask.value
        let checksum =
            try MigrationFile.load(folder: packageRoot + "/Migrations/platform").map(\.checksum).joined()
            + MigrationFile.load(folder: packageRoot + "/Migrations/tenant").map(\.checksum).joined()
        let name = "vt_template_" + SHA256.hash(data: Data(checksum.utf8)).prefix(5).map { String(format: "%02x", $0) }.joined()
        _ = try await admin(server) { connection in
            let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger).collect()
            guard exists.isEmpty else { return }
            let building = name + "_building_" + String(Int.random(in: 1000...9999))
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(building) TEMPLATE template0"), logger: logger)
            var url = server
            url.database = building
            let database = try Database(url: url, poolSize: 4, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.client.run() }
                let migrator = try Migrator(migrationsFolder: packageRoot + "/Migrations", database: database, logger: logger)
                _ = try await migrator.migrate()
                group.cancelAll()
            }
            try await connection.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(building) RENAME TO \(name)"), logger: logger)
        }
        return name
    }

    /// Runs `body` on a connection to the server's `postgres` database.
    static func admin<T>(_ server: DatabaseURL, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        var url = server
        url.database = "postgres"
        let connection = try await PostgresConnection.connect(
            configuration: try url.connectionConfiguration(), id: 1, logger: logger)
        do {
            let value = try await body(connection)
            try await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A new database; `migrated: false` gives an empty one (for migration tests).
    static func create(migrated: Bool = true) async throws -> DatabaseURL {
        try TestLane.requireDatabase()
        let server = try await serverTask.value
        let template = migrated ? try await templateTask.value : "template0"
        let name = "vt_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try await admin(server) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template) STRATEGY FILE_COPY"), logger: logger)
        }
        var url = server
        url.database = name
        return url
    }

    static func drop(_ url: DatabaseURL) async {
        guard let server = try? await serverTask.value else { return }
        _ = try? await admin(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)"), logger: logger)
        }
    }
}

/// Lets a few test environments run at once. Swift Testing starts every test together: four hundred databases, pools
/// and servers at the same moment would exhaust PostgreSQL's connections and starve the cooperative pool, so that a
/// test measuring a deadline measures the crowd instead. `VITRINA_TEST_ENVIRONMENTS` changes how many (12).
actor EnvironmentGate {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ size: Int) { free = size }

    func enter() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// Everything a test needs: a fresh database, the app's services on it, and their client running.
struct TestEnvironment: Sendable {
    static let gate = EnvironmentGate(Int(ProcessInfo.processInfo.environment["VITRINA_TEST_ENVIRONMENTS"] ?? "") ?? 12)

    let services: AppServices
    let url: DatabaseURL

    var client: PostgresClient { services.database.client }
    var provisioner: TenantProvisioner { services.provisioner }

    static func configuration(migrationsFolder: String? = nil) -> AppConfiguration {
        var config = AppConfiguration()
        config.baseDomain = "vitrina.test"
        config.trustProxy = true
        config.resourcesDirectory = TestDatabase.packageRoot
        config.databasePoolSize = 12
        config.directoryReloadInterval = .seconds(30)
        config.logLevel = .critical
        config.secretKey = String(repeating: "5e", count: 32)
        config.domainHTTPCheckTimeout = .milliseconds(500)
        config.domainCheckSpacing = .zero
        return config
    }

    /// Runs `body` with a fresh migrated database and the services' client running; drops the database after.
    static func with<T: Sendable>(
        migrated: Bool = true, configure: (inout AppConfiguration) -> Void = { _ in }, clock: WallClock = .system,
        resolver: (any DNSResolver)? = nil, embeddings: EmbeddingsEndpoint? = nil, _ body: @Sendable (TestEnvironment) async throws -> T
    ) async throws -> T {
        try TestLane.requireDatabase()
        await gate.enter()
        defer { Task { await gate.leave() } }
        let url = try await TestDatabase.create(migrated: migrated)
        var config = configuration()
        configure(&config)
        let database = try Database(url: url, poolSize: config.databasePoolSize, logger: TestDatabase.logger)
        let services = try await AppServices.make(
            configuration: config, database: database, logger: TestDatabase.logger, clock: clock, resolver: resolver,
            embeddings: embeddings, modelHosts: TestHosts.addresses)
        let environment = TestEnvironment(services: services, url: url)
        let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            do { return .success(try await body(environment)) } catch { return .failure(error) }
        }
        try? await services.chatModels.shutdown()
        try? await services.http.client.shutdown()
        await TestDatabase.drop(url)
        return try result.get()
    }

    /// Creates a tenant with the given help articles.
    @discardableResult
    func makeTenant(
        _ slug: String, partner: String? = nil, domains: [String] = [], branding: Branding = Branding(), articles: [HelpArticle] = []
    ) async throws -> TenantScope {
        let scope = try await provisioner.provision(
            NewTenant(slug: slug, name: slug.capitalized, partnerSlug: partner, domains: domains, branding: branding))
        if !articles.isEmpty {
            try await withTenant(scope) { tenant in
                for article in articles { try await services.articles.upsert(article, on: tenant) }
            }
        }
        return scope
    }

    func makePartner(_ slug: String, domains: [String] = [], branding: Branding = Branding()) async throws {
        try await services.database.transaction { transaction in
            let id = UUID()
            try await transaction.execute(
                "INSERT INTO platform.partners (id, slug, name, branding) VALUES (\(id), \(slug), \(slug.capitalized), \(branding.json)::jsonb)"
            )
            for domain in domains { try await provisioner.addDomain(domain, partnerID: id, on: transaction) }
        }
    }

    /// The tenant as the directory holds it (loaded again when the directory does not know it yet).
    func record(_ scope: TenantScope) async throws -> TenantRecord {
        try #require(try await services.directory.tenant(id: scope.id))
    }

    /// The door, for a tenant a test made (resolved through the directory, as everything else does).
    func withTenant<T: Sendable>(
        _ scope: TenantScope, readOnly: Bool = false, admitting: TenantDatabase.Admission = .active,
        _ body: (TenantConnection) async throws -> T
    ) async throws -> T {
        try await services.tenants.withTenant(try await record(scope), readOnly: readOnly, admitting: admitting, body)
    }
}

extension TestEnvironment {
    /// A job worker on this environment's queue, with the handlers the composition root registers.
    func worker(concurrency: Int = 4) -> JobWorker {
        JobWorker(
            queue: services.jobs, registry: services.jobRegistry, directory: services.directory, database: services.database,
            concurrency: concurrency, logger: TestDatabase.logger)
    }
}

/// The host names model addresses in tests lead to, instead of the machine's DNS (tests never wait on a resolver):
/// two names inside the installation's network; any other name resolves to nothing.
enum TestHosts {
    static let table = [
        "llm.corp.example": ["10.20.30.40"],
        "metadata.cloud.example": ["169.254.169.254", "2001:db8::1"],
        "llm.public.example": ["93.184.216.34"],
    ]

    /// A name with its root's dot (`name.example.`) is the same name.
    static let addresses = HostAddresses { name in
        table[name.lowercased().hasSuffix(".") ? String(name.lowercased().dropLast()) : name.lowercased()] ?? []
    }
}

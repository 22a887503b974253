import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

/// The long-lived parts of a running Vitrina, built once from the configuration.
public struct AppServices: Sendable {
    public let configuration: AppConfiguration
    public let database: Database
    public let migrator: Migrator
    public let directory: TenantDirectory
    public let tenants: TenantDatabase
    public let provisioner: TenantProvisioner
    /// The installation's secret (signing and encryption, used from the identity issue on).
    public let secretKey: SecretKey
    public let identity: IdentityServices
    public let brandAssets: BrandAssetStore
    public let domains: DomainStore
    public let logger: Logger

    public init(configuration: AppConfiguration, database: Database, logger: Logger) throws {
        self.configuration = configuration
        secretKey = try SecretKey.resolve(configured: configuration.secretKey, dataDirectory: configuration.absoluteDataDirectory)
        self.database = database
        self.logger = logger
        migrator = try Migrator(
            migrationsFolder: configuration.resourcePath("Migrations"), client: database.client,
            workers: configuration.migrationWorkers, logger: logger)
        directory = TenantDirectory(client: database.client, baseDomain: configuration.baseDomain, logger: logger)
        tenants = TenantDatabase(client: database.client, logger: logger)
        provisioner = TenantProvisioner(
            client: database.client, migrator: migrator, baseDomain: configuration.baseDomain, logger: logger)
        identity = IdentityServices(database: database, configuration: configuration, logger: logger)
        brandAssets = BrandAssetStore(client: database.client, logger: logger)
        let resolver = SystemDNSResolver(server: configuration.dnsServer)
        let verifier = DomainVerifier(
            resolver: resolver, fetcher: HTTPChallengeFetcher(resolver: resolver, timeout: configuration.domainHTTPCheckTimeout),
            cnameTarget: configuration.domainTarget)
        domains = DomainStore(
            client: database.client, verifier: verifier, directory: directory, checkSpacing: configuration.domainCheckSpacing,
            logger: logger)
    }
}

/// Builds the HTTP application: routes, middleware, and the services it runs (database pool, directory refresher).
/// `prepare` runs once migrations are applied and the directory is loaded, before the first request.
public func buildApplication(
    _ services: AppServices, prepare: @escaping @Sendable (AppServices) async throws -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let configuration = services.configuration
    let renderer = try await Renderer(
        templatesFolder: configuration.resourcePath("Templates"), publicFolder: configuration.resourcePath("Public"))
    let router = try buildRouter(services, renderer: renderer)
    var background: [any Service] = [
        services.database.client,
        DirectoryRefresher(
            directory: services.directory, database: services.database, interval: configuration.directoryReloadInterval,
            logger: services.logger),
        IdentitySweeper(sessions: services.identity.sessions, client: services.database.client, logger: services.logger),
        DomainVerificationService(store: services.domains, interval: configuration.domainCheckInterval, logger: services.logger),
    ]
    if let url = configuration.smtpURL {
        let smtp = SMTPClient(configuration: try SMTPConfiguration(url: url))
        background.append(OutboxWorker(client: services.database.client, smtp: smtp, logger: services.logger))
    }
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: background,
        logger: services.logger)
    app.beforeServerStarts {
        if configuration.migrateOnStart {
            let report = try await services.migrator.migrate()
            for failure in report.failures {
                services.logger.error("Tenant \(failure.slug) failed to migrate: \(failure.message)")
            }
        } else {
            try await services.migrator.verifyTenantFiles()
        }
        try await services.directory.reload()
        try await prepare(services)
    }
    return app
}

/// The routes and middleware, in one place.
public func buildRouter(_ services: AppServices, renderer: Renderer) throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    let apiRoutes = APIRouteTable()
    router.addMiddleware {
        SecurityHeadersMiddleware(trustProxy: services.configuration.trustProxy)
        APIProblemMiddleware(routes: apiRoutes)
        SiteMiddleware(directory: services.directory, renderer: renderer, trustProxy: services.configuration.trustProxy)
        FileMiddleware(
            services.configuration.resourcePath("Public"),
            cacheControl: .init([
                (MediaType(type: .text, subType: "css"), [.public, .maxAge(31_536_000), .immutable]),
                (MediaType(type: .any), [.public, .maxAge(86_400)]),
            ]),
            searchForIndexHtml: false,
            logger: services.logger)
    }
    HealthController(migrator: services.migrator).addRoutes(to: router)
    HomeController(renderer: renderer, directory: services.directory).addRoutes(to: router)
    BrandStylesheetController().addRoutes(to: router)
    TLSAskController(directory: services.directory).addRoutes(to: router)
    BrandAssetController(store: services.brandAssets).addRoutes(to: router)
    DomainChallengeController(domains: services.domains, trustProxy: services.configuration.trustProxy).addRoutes(to: router)
    let tenantRoutes = router.group(context: TenantRequestContext.self)
    HelpController(database: services.tenants, renderer: renderer).addRoutes(to: tenantRoutes)

    // The panel, on every host: sessions and CSRF checks apply to everything under /admin.
    let identity = services.identity
    let panels = PanelRenderer(renderer: renderer, secretKey: services.secretKey)
    let mail = MailComposer(renderer: renderer)
    let admin = router.group("admin").add(middleware: SessionMiddleware(sessions: identity.sessions, secretKey: services.secretKey))
    let operators = OperatorController(identity: identity, panels: panels, directory: services.directory, provisioner: services.provisioner)
    AuthController(identity: identity, panels: panels, mail: mail, directory: services.directory).addRoutes(to: admin)
    DashboardController(identity: identity, tenants: services.tenants, panels: panels, operators: operators).addRoutes(to: admin)
    ArticlesController(identity: identity, tenants: services.tenants, panels: panels).addRoutes(to: admin)
    let invitations = Invitations(identity: identity, mail: mail, provisioner: services.provisioner)
    TeamController(identity: identity, panels: panels, invitations: invitations).addRoutes(to: admin)
    ProfileController(identity: identity, panels: panels).addRoutes(to: admin)
    AuditController(identity: identity, panels: panels).addRoutes(to: admin)
    TenantConsoleController(identity: identity, panels: panels, directory: services.directory, invitations: invitations)
        .addRoutes(to: admin)
    BrandingController(identity: identity, panels: panels, directory: services.directory, assets: services.brandAssets)
        .addRoutes(to: admin)
    DomainsController(
        identity: identity, panels: panels, domains: services.domains, directory: services.directory,
        cnameTarget: services.configuration.domainTarget
    ).addRoutes(to: admin)
    operators.addRoutes(to: admin)
    APIKeysController(identity: identity, panels: panels, keys: APIKeyStore(client: services.database.client, logger: services.logger))
        .addRoutes(to: admin)

    // The provisioning API: JSON, bearer keys, problem documents (405 needs the routes, so they are told last).
    try addAPIRoutes(to: router, services: services, invitations: invitations, texts: renderer.localizer.catalog("en"))
    apiRoutes.set(router.routes.filter { $0.path.description.hasPrefix("/api/") })
    return router
}

import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle

/// The long-lived parts of a running Vitrina, built once from the configuration: the one composition root. Everything
/// below is constructed here and handed to what uses it; nothing looks anything up.
public struct AppServices: Sendable {
    public let configuration: AppConfiguration
    public let database: Database
    public let logger: Logger
    /// The installation's secret (signing and encryption).
    public let secretKey: SecretKey
    public let clock: WallClock
    public let http: HTTPClientService
    public let renderer: Renderer
    public let mail: MailComposer

    public let migrator: Migrator
    public let directory: TenantDirectory
    /// The one door to tenant data.
    public let tenants: TenantDatabase
    public let provisioner: TenantProvisioner

    public let auditLog: AuditLog
    public let users: UserStore
    public let sessions: SessionStore
    public let throttle: LoginThrottle
    public let tokens: OneTimeTokens
    public let hasher: PasswordHasher
    public let jobs: JobQueue
    public let outbox: Outbox
    public let plans: PlanStore
    public let branding: BrandingStore
    public let brandAssets: BrandAssetStore
    public let domains: DomainStore
    public let apiKeys: APIKeyStore
    public let articles: HelpArticleStore
    public let invitations: Invitations
    public let userAdmin: UserAdmin
    public let exporter: TenantExporter
    public let importer: TenantImporter
    public let drift: SchemaDrift
    /// Bots' settings and knowledge, cached per shop (kept honest by `vitrina_knowledge` notifications).
    public let botSnapshots: BotSnapshots
    /// Semantic retrieval's embeddings (queries batched and cached, a pause after a failure); nil when
    /// VITRINA_EMBEDDINGS_URL=off or when the local server could not start.
    public let embeddings: (any EmbeddingModel)?
    /// Each shop's embedding model: the installation's, or its provider's (clients cached per provider and key).
    public let embeddingModels: EmbeddingModels
    public let botEngine: BotEngine
    public let knowledgeEmbedder: KnowledgeEmbedder
    /// Live news of conversations for this process's widget and inbox streams.
    public let conversationFeed: ConversationFeed
    /// Seals the secrets shops keep here (the widget's identity secret, channel tokens, model keys).
    public let secrets: SecretBox
    public let inboxSettings: InboxSettingsStore
    /// Chat models of the shops' and agencies' providers: clients cached per provider and key, retries, a circuit
    /// breaker per shop and provider.
    public let chatModels: ChatModels
    /// Helpers for people: a reply suggested to an operator, FAQ entries drafted for the shop to approve.
    public let replySuggester: ReplySuggester
    public let faqDrafter: FAQDrafter
    public let retention: Retention
    /// Bots' messenger connections (Telegram, WhatsApp, Alice): the store, the providers' clients, the connector.
    public let channelConnections: ChannelConnectionStore
    public let channelClients: ChannelClients
    public let channelConnector: ChannelConnector
    /// Where the host names of model addresses shops and agencies type are looked up (the system's resolver, or a test's).
    public let modelHosts: HostAddresses

    /// Builds everything. `resolver` replaces the system's DNS for domain checks and `modelHosts` its look-up of model
    /// addresses (tests); `embeddings` is where vectors come from (`Runtime.openEmbeddings`), nil for none.
    public static func make(
        configuration: AppConfiguration, database: Database, logger: Logger, clock: WallClock = .system,
        resolver: (any DNSResolver)? = nil, challengeFetcher: (any ChallengeFetcher)? = nil, embeddings: EmbeddingsEndpoint? = nil,
        modelHosts: HostAddresses? = nil
    ) async throws -> AppServices {
        try await AppServices(
            configuration: configuration, database: database, logger: logger, clock: clock, resolver: resolver,
            challengeFetcher: challengeFetcher, embeddings: embeddings, modelHosts: modelHosts)
    }

    private init(
        configuration: AppConfiguration, database: Database, logger: Logger, clock: WallClock, resolver: (any DNSResolver)?,
        challengeFetcher: (any ChallengeFetcher)?, embeddings endpoint: EmbeddingsEndpoint?, modelHosts: HostAddresses?
    ) async throws {
        self.configuration = configuration
        self.database = database
        self.logger = logger
        self.clock = clock
        secretKey = try SecretKey.resolve(configured: configuration.secretKey, dataDirectory: configuration.absoluteDataDirectory)
        let olderKeys = try SecretKey.older(configured: configuration.oldSecretKeys, dataDirectory: configuration.absoluteDataDirectory)
        renderer = try await Renderer(
            templatesFolder: configuration.resourcePath("Templates"), publicFolder: configuration.resourcePath("Public"))
        mail = MailComposer(renderer: renderer)

        migrator = try Migrator(
            migrationsFolder: configuration.resourcePath("Migrations"), database: database, workers: configuration.migrationWorkers,
            logger: logger)
        // Made after every step that can fail: a client nobody shuts down trips AsyncHTTPClient's check when released.
        http = HTTPClientService()
        directory = TenantDirectory(database: database, baseDomain: configuration.baseDomain, logger: logger)
        tenants = TenantDatabase(database: database, statementsPerConnection: configuration.statementsPerConnection, logger: logger)
        provisioner = TenantProvisioner(database: database, migrator: migrator, baseDomain: configuration.baseDomain)

        auditLog = AuditLog(database: database)
        users = UserStore(database: database, auditLog: auditLog)
        sessions = SessionStore(database: database, policy: configuration.sessionPolicy)
        throttle = LoginThrottle(database: database)
        tokens = OneTimeTokens(database: database)
        hasher = configuration.passwordHasher
        jobs = JobQueue(database: database, clock: clock, logger: logger)
        outbox = Outbox(database: database, queue: jobs, delivers: configuration.smtpURL != nil, logger: logger)
        plans = PlanStore(database: database)
        branding = BrandingStore(database: database)
        brandAssets = BrandAssetStore(database: database)
        let dns = resolver ?? SystemDNSResolver(server: configuration.dnsServer)
        self.modelHosts = modelHosts ?? .system()
        let verifier = DomainVerifier(
            resolver: dns,
            fetcher: challengeFetcher
                ?? HTTPChallengeFetcher(client: http.client, resolver: dns, timeout: configuration.domainHTTPCheckTimeout),
            cnameTarget: configuration.domainTarget)
        domains = DomainStore(
            database: database, verifier: verifier, directory: directory, checkSpacing: configuration.domainCheckSpacing, clock: clock,
            logger: logger)
        apiKeys = APIKeyStore(database: database, auditLog: auditLog)
        articles = HelpArticleStore(tenants: tenants)
        invitations = Invitations(
            database: database, tokens: tokens, outbox: outbox, plans: plans, auditLog: auditLog, mail: mail, provisioner: provisioner)
        userAdmin = UserAdmin(database: database, users: users, hasher: hasher, sessions: sessions, auditLog: auditLog)
        exporter = TenantExporter(tenants: tenants, directory: directory)
        importer = TenantImporter(database: database, provisioner: provisioner, migrator: migrator)
        drift = SchemaDrift(database: database, migrator: migrator)
        let client = http.client
        embeddings = endpoint.map { BatchingEmbeddings(wrapping: OpenAIEmbeddings(client: client, endpoint: $0), clock: clock) }
        botSnapshots = BotSnapshots()
        secrets = SecretBox(secret: secretKey, older: olderKeys)
        chatModels = ChatModels(client: http.client, clock: clock)
        embeddingModels = EmbeddingModels(installation: embeddings, client: client, secrets: secrets, clock: clock)
        var engine = BotEngine(
            tenants: tenants, snapshots: botSnapshots, embeddings: embeddings, clock: clock, logger: logger, models: chatModels,
            secrets: secrets, embeddingModels: embeddingModels)
        engine.aliceBudget = configuration.channels.aliceBudget
        botEngine = engine
        knowledgeEmbedder = KnowledgeEmbedder(tenants: tenants, models: embeddingModels)
        let shopModel = ShopModel(models: chatModels, secrets: secrets)
        replySuggester = ReplySuggester(
            tenants: tenants, snapshots: botSnapshots, embeddings: embeddings, model: shopModel, embeddingModels: embeddingModels)
        faqDrafter = FAQDrafter(tenants: tenants, jobs: jobs, model: shopModel)
        conversationFeed = ConversationFeed()
        inboxSettings = InboxSettingsStore(secrets: secrets)
        retention = Retention(tenants: tenants, database: database, jobs: jobs)
        channelConnections = ChannelConnectionStore(tenants: tenants, secrets: secrets)
        channelClients = ChannelClients(
            telegram: TelegramClient(client: http.client, baseURL: configuration.channels.telegram),
            whatsapp: WhatsAppClient(client: http.client, baseURL: configuration.channels.whatsapp))
        channelConnector = ChannelConnector(
            tenants: tenants, store: channelConnections, clients: channelClients, directory: directory,
            origin: Self.publicOrigin(configuration))
    }

    /// Links that leave the request (e-mails, webhooks set at providers): https behind the proxy, else this server's own
    /// port (development).
    var publicOrigin: Origin { Self.publicOrigin(configuration) }

    static func publicOrigin(_ configuration: AppConfiguration) -> Origin {
        Origin(isSecure: configuration.trustProxy, authority: configuration.trustProxy ? "" : ":\(configuration.port)")
    }

    /// `tenants.yml`, applied with the installation's stores.
    public func manifestApplier(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> ManifestApplier {
        ManifestApplier(
            database: database, provisioner: provisioner, users: users, plans: plans, articles: articles, branding: branding,
            file: file, environment: environment, hasher: hasher, secrets: secrets, channels: channelConnector, jobs: jobs)
    }

    /// Keeps the directory fresh in this process (every process needs it: requests and jobs both resolve tenants).
    public var directoryRefresher: DirectoryRefresher {
        DirectoryRefresher(directory: directory, database: database, interval: configuration.directoryReloadInterval, logger: logger)
    }

    /// Every job kind's handler.
    public var jobRegistry: JobRegistry {
        var registry = JobRegistry()
        registry.register(EmbedKnowledge.self, lease: .seconds(600)) { [knowledgeEmbedder] _, context in
            guard let tenant = context.tenant else { return }
            try await knowledgeEmbedder.embedMissing(tenant, logger: context.logger)
        }
        registry.register(AnswerMessage.self, lease: .seconds(60)) { [botEngine] job, context in
            guard let tenant = context.tenant else { return }
            try await botEngine.answer(job, in: tenant, logger: context.logger)
        }
        let delivery = ChannelDelivery(
            tenants: tenants, store: channelConnections, clients: channelClients, limits: configuration.channels, directory: directory,
            origin: publicOrigin)
        registry.register(DeliverMessage.self, lease: .seconds(180)) { job, context in
            guard let tenant = context.tenant else { return }
            try await delivery.run(job, in: tenant, lastAttempt: context.job.isLastAttempt, logger: context.logger)
        }
        let voices = VoiceTranscription(
            tenants: tenants, snapshots: botSnapshots, store: channelConnections, clients: channelClients,
            speech: SpeechClients(http: http), secrets: secrets, jobs: jobs)
        registry.register(TranscribeVoice.self, lease: .seconds(180)) { job, context in
            guard let tenant = context.tenant else { return }
            try await voices.run(job, in: tenant, lastAttempt: context.job.isLastAttempt, logger: context.logger)
        }
        registry.register(ApplyRetention.self, lease: .seconds(600)) { [retention] _, context in
            guard let tenant = context.tenant else { return }
            try await retention.apply(tenant, logger: context.logger)
        }
        registry.register(ConnectChannel.self, lease: .seconds(60)) { [channelConnector] job, context in
            guard let tenant = context.tenant else { return }
            try await channelConnector.run(job, in: tenant, lastAttempt: context.job.isLastAttempt, logger: context.logger)
        }
        registry.register(DraftFAQEntries.self, lease: .seconds(180)) { [faqDrafter] job, context in
            guard let tenant = context.tenant else { return }
            try await faqDrafter.run(job, tenant: tenant, logger: context.logger)
        }
        // Links in the warning: https behind the proxy, else this server's own port (development).
        let warnings = UsageWarnings(database: database, outbox: outbox, renderer: renderer, origin: publicOrigin)
        registry.register(SendUsageWarning.self, lease: .seconds(120)) { [directory] job, context in
            guard let tenant = context.tenant else { return }
            try await warnings.send(job, tenant: tenant, host: directory.snapshot.primaryHost(of: tenant), logger: context.logger)
        }
        if let url = configuration.smtpURL, let smtp = try? SMTPConfiguration(url: url) {
            let sender = MailSender(outbox: outbox, smtp: SMTPClient(configuration: smtp))
            registry.register(SendMail.self, lease: .seconds(120)) { job, context in try await sender.send(job, context: context) }
        }
        return registry
    }

    /// What a worker process runs besides requests: the job workers and the periodic work (domain checks, sweeps).
    public func workers() -> [any Service] {
        [
            JobWorker(
                queue: jobs, registry: jobRegistry, directory: directory, database: database, concurrency: configuration.jobConcurrency,
                logger: logger),
            PeriodicTask("Domain checks", every: configuration.domainCheckInterval, logger: logger) { [domains, configuration] in
                try await domains.verifyPending(interval: configuration.domainCheckInterval)
            },
            PeriodicTask("Sweeping expired rows", every: .seconds(600), logger: logger) { [self] in try await sweep() },
            PeriodicTask("Queueing the shops' retention", every: .seconds(3600), logger: logger) { [retention, clock] in
                try await retention.queueDaily(now: clock.now())
            },
        ]
    }

    /// When the installation's embedding model is not the one the shops' knowledge was embedded with, queues an
    /// embedding job for every live shop (once: the statement that records the new model decides who queues).
    public func embedKnowledgeAfterModelChange() async throws {
        guard let model = embeddings?.modelID else { return }
        try await database.execute(
            """
            WITH changed AS (UPDATE platform.settings SET embeddings_model = \(model)
                WHERE embeddings_model IS DISTINCT FROM \(model) RETURNING 1)
            INSERT INTO platform.jobs (tenant_id, kind, idempotency_key)
            SELECT t.id, \(EmbedKnowledge.kind), 'embed-knowledge:' || t.id || ':model:' || \(model) || ':' || txid_current()
            FROM platform.tenants t, changed WHERE t.status IN ('active', 'suspended')
            ON CONFLICT (idempotency_key) DO NOTHING
            """)
    }

    /// Deletes what has expired: sessions, old sign-in failures, tokens a week past their end, old mail, finished jobs.
    /// The statements are idempotent: every worker process may run them.
    public func sweep() async throws {
        try await sessions.purgeExpired()
        try await throttle.purgeOld()
        try await tokens.purgeExpired()
        try await outbox.purgeOld()
        try await jobs.sweep()
    }
}

/// Builds the HTTP application: routes, middleware, and the services it runs (the database pool, the HTTP client,
/// the directory refresher, and unless `configuration.runWorkers` is off, the workers). `prepare` runs once
/// migrations are applied and the directory is loaded, before the first request.
public func buildApplication(
    _ services: AppServices, metrics: PrometheusCollectorRegistry? = nil,
    prepare: @escaping @Sendable (AppServices) async throws -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let configuration = services.configuration
    let router = try buildRouter(services, metrics: metrics)
    var background: [any Service] = [
        services.database.client, services.http, services.chatModels, services.directoryRefresher,
        BotSnapshotListener(snapshots: services.botSnapshots, database: services.database, logger: services.logger),
        ConversationFeedListener(feed: services.conversationFeed, database: services.database, logger: services.logger),
    ]
    // The workers wait for the migrations that `beforeServerStarts` applies.
    let ready = StartGate()
    if configuration.runWorkers { background += services.workers().map { GatedService(gate: ready, service: $0) } }
    if let metrics, let address = configuration.metricsAddress {
        let metricsRouter = Router()
        MetricsController(registry: metrics, queue: services.jobs, token: nil).addRoutes(to: metricsRouter)
        background.append(
            Application(
                router: metricsRouter, configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
                logger: services.logger))
    }
    var app = Application(
        router: router, server: .strictHTTP1(),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: background, logger: services.logger)
    app.beforeServerStarts {
        try await migrate(services)
        try await services.directory.reload()
        try await services.embedKnowledgeAfterModelChange()
        try await prepare(services)
        ready.open()
    }
    return app
}

/// Applies pending migrations (or, with `--no-migrate`, checks that the tenant files are the applied ones).
func migrate(_ services: AppServices) async throws {
    if services.configuration.migrateOnStart {
        let report = try await services.migrator.migrate()
        for failure in report.failures {
            services.logger.error("Tenant \(failure.slug) failed to migrate: \(failure.message)")
        }
    } else {
        try await services.migrator.verifyTenantFiles()
    }
}

import Foundation
import Hummingbird
import Prometheus

/// The routes and middleware, in one place: the public site, the panel (`/admin`, registered from `PanelURL`) and the
/// API (`/api/v1`). Each controller gets exactly the stores it uses.
public func buildRouter(_ services: AppServices, metrics: PrometheusCollectorRegistry? = nil) throws -> Router<AppRequestContext> {
    let configuration = services.configuration
    let renderer = services.renderer
    let router = Router(context: AppRequestContext.self)
    let apiRoutes = APIRouteTable()
    let widgetRoutes = APIRouteTable()
    router.addMiddleware {
        MetricsMiddleware()
        SecurityHeadersMiddleware(trustProxy: configuration.trustProxy)
        APIProblemMiddleware(routes: apiRoutes)
        if configuration.demoStorefronts {
            DemoStorefrontMiddleware(directory: services.directory, renderer: renderer, trustProxy: configuration.trustProxy)
        }
        SiteMiddleware(directory: services.directory, renderer: renderer, trustProxy: configuration.trustProxy)
        WidgetRoutesMiddleware(routes: widgetRoutes)
        FileMiddleware(
            configuration.resourcePath("Public"),
            cacheControl: .init([
                (MediaType(type: .text, subType: "css"), [.public, .maxAge(31_536_000), .immutable]),
                // Scripts are addressed with their content's hash (`?v=`), as stylesheets are.
                (MediaType(type: .application, subType: "javascript"), [.public, .maxAge(31_536_000), .immutable]),
                (MediaType(type: .text, subType: "javascript"), [.public, .maxAge(31_536_000), .immutable]),
                (MediaType(type: .any), [.public, .maxAge(86_400)]),
            ]),
            searchForIndexHtml: false,
            logger: services.logger)
    }
    try addSiteRoutes(to: router, services)
    widgetRoutes.set(router.routes.filter { $0.path.description.hasPrefix(WidgetURL.api + "/") })
    if let metrics, let token = configuration.metricsToken {
        MetricsController(registry: metrics, queue: services.jobs, token: token).addRoutes(to: router)
    }
    addPanelRoutes(to: router, services)
    // The provisioning API: JSON, bearer keys, problem documents (405 needs the routes, so they are told last).
    try addAPIRoutes(to: router, services)
    apiRoutes.set(router.routes.filter { $0.path.description.hasPrefix("/api/") })
    return router
}

/// What every host answers outside the panel and the API.
private func addSiteRoutes(to router: Router<AppRequestContext>, _ services: AppServices) throws {
    HealthController(migrator: services.migrator).addRoutes(to: router)
    HomeController(renderer: services.renderer, directory: services.directory).addRoutes(to: router)
    BrandStylesheetController().addRoutes(to: router)
    TLSAskController(directory: services.directory).addRoutes(to: router)
    BrandAssetController(store: services.brandAssets).addRoutes(to: router)
    DomainChallengeController(domains: services.domains, trustProxy: services.configuration.trustProxy).addRoutes(to: router)
    HelpController(articles: services.articles, renderer: services.renderer).addRoutes(to: router.group(context: TenantRequestContext.self))
    try addWidgetRoutes(to: router, services)
    addChannelRoutes(to: router, services)
}

/// The messengers' webhooks on a shop's hosts (`/hooks/<kind>/<key>`): each verifies its provider before anything else.
private func addChannelRoutes(to router: Router<AppRequestContext>, _ services: AppServices) {
    let hooks = router.group(RouterPath("hooks")).group(context: ChannelRequestContext.self)
    MessengerWebhookController(
        connections: services.channelConnections,
        intake: ChannelIntake(engine: services.botEngine, jobs: services.jobs, tenants: services.tenants)
    ).addRoutes(to: hooks)
    AliceWebhookController(
        connections: services.channelConnections, engine: services.botEngine,
        store: AliceStore(tenants: services.tenants, snapshots: services.botSnapshots), localizer: services.renderer.localizer,
        budget: services.configuration.channels.aliceBudget, directory: services.directory, origin: services.publicOrigin
    ).addRoutes(to: hooks)
}

/// The web chat widget on a shop's hosts: its script and frame, and its API (visitors' tokens in a header, problem
/// documents, the `Origin` check and CORS for the bots' allowed origins) and the API's description (no token).
private func addWidgetRoutes(to router: Router<AppRequestContext>, _ services: AppServices) throws {
    let s = services
    let localizer = s.renderer.localizer
    let widget = router.group(context: WidgetRequestContext.self)
    WidgetPageController(
        tenants: s.tenants, database: s.database, renderer: s.renderer,
        assets: WidgetAssets(publicFolder: s.configuration.resourcePath("Public")), clock: s.clock
    ).addRoutes(to: widget)
    let api = router.group(RouterPath(String(WidgetURL.api.dropFirst()))).group(context: WidgetRequestContext.self)
        .add(middleware: WidgetAPIMiddleware(tenants: s.tenants, localizer: localizer))
    let access = WidgetAccess(
        tenants: s.tenants, visitors: WidgetVisitors(),
        limits: WidgetLimits(perAddress: s.configuration.widgetAddressLimit, localizer: localizer), localizer: localizer)
    WidgetAPIController(
        access: access, engine: s.botEngine, jobs: s.jobs, store: WidgetStore(), settings: s.inboxSettings, clock: s.clock
    ).addRoutes(to: api)
    WidgetFormsController(access: access, feed: s.conversationFeed, database: s.database).addRoutes(to: api)
    WidgetEventsController(
        access: access, store: WidgetStore(), feed: s.conversationFeed, keepAlive: .seconds(15),
        reads: SharedMessageReads(tenants: s.tenants)
    ).addRoutes(to: api)
    try OpenAPIController(file: s.configuration.resourcePath("Templates") + "/api/widget-openapi.json")
        .addRoutes(to: api, path: WidgetURL.openapi.pattern)
}

/// The panel, on every host: sessions and CSRF checks apply to everything under `/admin`; the pages before sign-in
/// take the request as it comes, every other page a `PanelRequestContext` (signed in, with a role here).
private func addPanelRoutes(to router: Router<AppRequestContext>, _ services: AppServices) {
    let s = services
    let panels = PanelRenderer(renderer: s.renderer, secretKey: s.secretKey)
    let admin = router.group(RouterPath(String(PanelURL.prefix.dropFirst())))
        .add(middleware: SessionMiddleware(sessions: s.sessions, secretKey: s.secretKey))
    let before = PublicPanelRoutes(group: admin)
    SignInController(
        users: s.users, throttle: s.throttle, hasher: s.hasher, sessions: s.sessions, auditLog: s.auditLog, panels: panels,
        presence: PresenceStore(database: s.database)
    ).addRoutes(to: before)
    PasswordResetController(
        database: s.database, users: s.users, tokens: s.tokens, hasher: s.hasher, sessions: s.sessions, outbox: s.outbox, mail: s.mail,
        auditLog: s.auditLog, panels: panels
    ).addRoutes(to: before)
    InvitationController(
        database: s.database, users: s.users, tokens: s.tokens, throttle: s.throttle, hasher: s.hasher, sessions: s.sessions,
        auditLog: s.auditLog, panels: panels
    ).addRoutes(to: before)
    HandoffController(users: s.users, tokens: s.tokens, sessions: s.sessions, auditLog: s.auditLog).addRoutes(to: before)

    let routes = PanelRoutes(group: admin.group(context: PanelRequestContext.self))
    let shops = ShopList(database: s.database, plans: s.plans, directory: s.directory, panels: panels)
    DashboardController(
        articles: s.articles, users: s.users, plans: s.plans, tokens: s.tokens, auditLog: s.auditLog, shops: shops, panels: panels
    )
    .addRoutes(to: routes)
    ArticlesController(articles: s.articles, tenants: s.tenants, sessions: s.sessions, auditLog: s.auditLog, panels: panels)
        .addRoutes(to: routes)
    BotTryController(engine: s.botEngine, tenants: s.tenants, panels: panels).addRoutes(to: routes)
    let scripts = PanelScripts(publicFolder: s.configuration.resourcePath("Public"))
    BotSettingsController(
        assets: s.brandAssets, plans: s.plans, tenants: s.tenants, sessions: s.sessions, auditLog: s.auditLog, scripts: scripts,
        panels: panels
    ).addRoutes(to: routes)
    BotFAQController(engine: s.botEngine, tenants: s.tenants, sessions: s.sessions, auditLog: s.auditLog, panels: panels)
        .addRoutes(to: routes)
    let modelTests = LLMConnectionTest(
        models: s.chatModels, endpoints: LLMEndpointPolicy(allowPrivateHosts: s.configuration.allowPrivateModelHosts, hosts: s.modelHosts))
    BotLLMController(
        tenants: s.tenants, secrets: s.secrets, tester: modelTests, sessions: s.sessions, auditLog: s.auditLog, panels: panels
    ).addRoutes(to: routes)
    BotFAQDraftsController(drafter: s.faqDrafter, tenants: s.tenants, sessions: s.sessions, auditLog: s.auditLog, panels: panels)
        .addRoutes(to: routes)
    BotSynonymsController(tenants: s.tenants, sessions: s.sessions, auditLog: s.auditLog, panels: panels).addRoutes(to: routes)
    BotTemplatesController(tenants: s.tenants, sessions: s.sessions, auditLog: s.auditLog, panels: panels).addRoutes(to: routes)
    BotRulesController(tenants: s.tenants, sessions: s.sessions, auditLog: s.auditLog, panels: panels).addRoutes(to: routes)
    ChannelsController(
        tenants: s.tenants, connections: s.channelConnections, connector: s.channelConnector, sessions: s.sessions, auditLog: s.auditLog,
        scripts: scripts, panels: panels
    ).addRoutes(to: routes)
    let presence = PresenceStore(database: s.database)
    InboxListController(tenants: s.tenants, settings: s.inboxSettings, presence: presence, scripts: scripts, panels: panels)
        .addRoutes(to: routes)
    InboxConversationController(
        tenants: s.tenants, actions: InboxActions(tenants: s.tenants), settings: s.inboxSettings, presence: presence, sessions: s.sessions,
        scripts: scripts, panels: panels, suggester: s.replySuggester
    ).addRoutes(to: routes)
    InboxLiveController(
        tenants: s.tenants, database: s.database, feed: s.conversationFeed, presence: presence, sessions: s.sessions, panels: panels
    ).addRoutes(to: routes)
    InboxSettingsController(
        tenants: s.tenants, settings: s.inboxSettings, sessions: s.sessions, auditLog: s.auditLog, scripts: scripts, panels: panels
    ).addRoutes(to: routes)
    TeamController(users: s.users, tokens: s.tokens, invitations: s.invitations, sessions: s.sessions, auditLog: s.auditLog, panels: panels)
        .addRoutes(to: routes)
    ProfileController(
        users: s.users, throttle: s.throttle, hasher: s.hasher, tokens: s.tokens, sessions: s.sessions, auditLog: s.auditLog, panels: panels
    ).addRoutes(to: routes)
    AuditController(auditLog: s.auditLog, panels: panels).addRoutes(to: routes)
    ShopUsageController(plans: s.plans, sessions: s.sessions, auditLog: s.auditLog, clock: s.clock, panels: panels).addRoutes(to: routes)
    AgencyUsageController(plans: s.plans, directory: s.directory, clock: s.clock, panels: panels).addRoutes(to: routes)
    ShopsController(
        invitations: s.invitations, provisioner: s.provisioner, plans: s.plans, directory: s.directory, sessions: s.sessions,
        auditLog: s.auditLog, panels: panels
    ).addRoutes(to: routes)
    ShopAccessController(
        users: s.users, tokens: s.tokens, directory: s.directory, sessions: s.sessions, auditLog: s.auditLog, panels: panels
    )
    .addRoutes(to: routes)
    PartnerLLMController(
        database: s.database, secrets: s.secrets, tester: modelTests, sessions: s.sessions, auditLog: s.auditLog, panels: panels
    ).addRoutes(to: routes)
    BrandingController(
        branding: s.branding, assets: s.brandAssets, directory: s.directory, sessions: s.sessions, auditLog: s.auditLog, panels: panels
    ).addRoutes(to: routes)
    DomainsController(domains: s.domains, directory: s.directory, sessions: s.sessions, auditLog: s.auditLog, panels: panels)
        .addRoutes(to: routes)
    APIKeysController(keys: s.apiKeys, sessions: s.sessions, panels: panels).addRoutes(to: routes)
    OutboxController(outbox: s.outbox, panels: panels).addRoutes(to: routes)
    JobsController(queue: s.jobs, sessions: s.sessions, auditLog: s.auditLog, panels: panels).addRoutes(to: routes)
}

/// The API's routes: the description without a key, everything else behind `APIKeyMiddleware`.
private func addAPIRoutes(to router: Router<AppRequestContext>, _ services: AppServices) throws {
    let s = services
    let texts = s.renderer.localizer.catalog("en")
    let api = router.group("api/v1")
    try OpenAPIController(file: s.configuration.resourcePath("Templates") + "/api/openapi.json").addRoutes(to: api)
    let keyed = api.group()
        .add(
            middleware: APIKeyMiddleware(
                keys: s.apiKeys, limiter: APIRateLimiter(perMinute: s.configuration.apiRateLimit),
                failuresPerMinute: s.configuration.apiAuthFailureLimit)
        )
        .group(context: APIRequestContext.self)
    TenantsAPIController(
        database: s.database, directory: s.directory, provisioner: s.provisioner, invitations: s.invitations, auditLog: s.auditLog,
        texts: texts
    ).addRoutes(to: keyed)
    BrandingAPIController(branding: s.branding, directory: s.directory, auditLog: s.auditLog, texts: texts).addRoutes(to: keyed)
    MembersAPIController(users: s.users, invitations: s.invitations, directory: s.directory, texts: texts).addRoutes(to: keyed)
    UsageAPIController(plans: s.plans, clock: s.clock).addRoutes(to: keyed)
    DomainsAPIController(domains: s.domains, directory: s.directory, auditLog: s.auditLog, texts: texts).addRoutes(to: keyed)
    ArticlesAPIController(articles: s.articles, tenants: s.tenants, directory: s.directory, auditLog: s.auditLog, texts: texts)
        .addRoutes(to: keyed)
    let bots = BotAPIAccess(tenants: s.tenants, directory: s.directory)
    let endpoints = LLMEndpointPolicy(allowPrivateHosts: s.configuration.allowPrivateModelHosts, hosts: s.modelHosts)
    let model = BotModelAPI(secrets: s.secrets, endpoints: endpoints)
    BotAPIController(bots: BotStore(), plans: s.plans, access: bots, auditLog: s.auditLog, model: model).addRoutes(to: keyed)
    let modelTests = LLMConnectionTest(models: s.chatModels, endpoints: endpoints)
    BotLLMAPIController(access: bots, model: model, tester: modelTests).addRoutes(to: keyed)
    PartnerLLMAPIController(
        database: s.database, store: PartnerModelStore(), directory: s.directory, secrets: s.secrets, tester: modelTests,
        auditLog: s.auditLog
    ).addRoutes(to: keyed)
    BotMessagesAPIController(engine: s.botEngine, access: bots).addRoutes(to: keyed)
    KnowledgeAPIController(knowledge: KnowledgeStore(), access: bots, auditLog: s.auditLog).addRoutes(to: keyed)
    TemplatesAPIController(config: BotConfigStore(), access: bots, auditLog: s.auditLog).addRoutes(to: keyed)
    RulesAPIController(config: BotConfigStore(), access: bots, auditLog: s.auditLog).addRoutes(to: keyed)
    ChannelsAPIController(
        access: bots, bots: BotStore(), connections: s.channelConnections, connector: s.channelConnector, auditLog: s.auditLog
    ).addRoutes(to: keyed)
    ConversationsAPIController(access: bots, inbox: InboxStore(), actions: InboxActions(tenants: s.tenants), auditLog: s.auditLog)
        .addRoutes(to: keyed)
    SuggestionsAPIController(access: bots, suggester: s.replySuggester).addRoutes(to: keyed)
}

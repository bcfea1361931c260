import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TenantScopeCore
import TenantScopePostgres

/// Builds the TenantScope HTTP application: routes, middleware and the database pools as services.
///
/// - Parameters:
///   - services: more services to run with the server (the embedded cluster's supervisor), started
///     first and so stopped last.
///   - metrics: the registry and factory of the request, ingest and roll-up metrics (the database's own
///     were given to it when it was opened).
///   - beforeServerStarts: work that needs the pools running but must finish before the port opens
///     (loading demo data).
///   - onServerRunning: called with the bound port once the server accepts connections.
///   - onMetricsRunning: called with the bound port of the metrics listener, when there is one.
public func buildApplication(
    database: Database,
    configuration: ServerConfiguration,
    tokens: TokenVerifier,
    catalog: ReportCatalog,
    logger: Logger,
    metrics: ServerMetrics = ServerMetrics(),
    services: [any Service] = [],
    beforeServerStarts: (@Sendable () async throws -> Void)? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    onMetricsRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    // One tenant cannot starve the others: its tier's rates, queue and connection budget (decisions 46, 47).
    let limits = configuration.tenantLimits.map { TenantLimitEnforcer(store: database.tenantLimits, settings: $0, logger: logger) }
    let router = buildRouter(database: database, configuration: configuration, tokens: tokens, catalog: catalog, metrics: metrics,
                             limits: limits)
    var app = Application(
        responder: AlternateRequestSyntaxResponder(wrapped: HeadAsGetResponder(wrapped: router.buildResponder()),
                                                   maximumBodyBytes: configuration.maximumBodyBytes),
        server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "TenantScope"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
    app.addServices(services)
    app.addServices(database.services)
    // The credential cache reloads itself in the background (a CredentialCache is a Service).
    if let service = tokens.status as? any Service {
        app.addServices(service)
    }
    if let limits {
        app.addServices(limits.limits)
    }
    if let checkpoints = database.audit.checkpoints {
        app.addServices(AuditCheckpointService(checkpoints: checkpoints, audit: database.audit, logger: logger))
    }
    if let interval = configuration.rollupInterval {
        app.addServices(RollupService(database: database, interval: interval, quietPeriod: configuration.rollupQuietPeriod,
                                      concurrency: configuration.rollupConcurrency, quietConcurrency: configuration.rollupQuietConcurrency,
                                      lockWait: configuration.rollupLockWait, logger: logger, metrics: metrics.factory))
    }
    if let exports = configuration.exports, let store = exports.store as? any Service {
        // Before the worker and the routes' server: it stops after them (an S3 store's HTTP client).
        app.addServices(store)
    }
    if let exports = configuration.exports, exports.runsWorker {
        let reports = ReportRunner(catalog: catalog, database: database)
        // Custom reports export through the same guard and sandbox as the SQL surface, never from the cache.
        let sql = GuardedSQLService(database: database, mode: configuration.sqlGuard, limits: configuration.sqlLimits)
        let reader = ExportReader(database: database, reports: reports, customReports: sql)
        app.addServices(ExportWorker(database: database, reader: reader, store: exports.store,
                                     settings: exports.settings, partialDirectory: exports.partialDirectory, logger: logger))
    }
    if let listener = configuration.metricsListener {
        // Its own server, so the API port never answers /metrics (architecture decision 30); scrapes are
        // not logged per request.
        let router = Router(context: BasicRequestContext.self)
        MetricsRoute(metrics: metrics).register(on: router)
        app.addServices(Application(
            router: router,
            configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "TenantScope metrics"),
            onServerRunning: { channel in await onMetricsRunning(channel.localAddress?.port ?? listener.port) },
            logger: logger
        ))
    }
    if let beforeServerStarts {
        app.beforeServerStarts(perform: beforeServerStarts)
    }
    return app
}

/// The router with every route and middleware: one place that shows the whole HTTP surface.
///
/// Middleware added here applies to every route, in this order: request logging and metrics, security headers
/// (`nosniff`, `no-store`), JSON errors, the presentation of the LRS (version header) and of the pages (HTML errors, security headers), then
/// the tenant-parameter guard. Each route group adds its authenticator and ``ScopeMiddleware``.
func buildRouter(
    database: Database, configuration: ServerConfiguration, tokens: TokenVerifier, catalog: ReportCatalog, metrics: ServerMetrics = ServerMetrics(),
    limits: TenantLimitEnforcer? = nil
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestTelemetryMiddleware(factory: metrics.factory))
    router.add(middleware: ClientLivenessMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: XAPIVersionMiddleware())
    router.add(middleware: PageMiddleware(embedding: configuration.embedding))
    router.add(middleware: TenantParameterGuard())

    let audit = database.audit
    let bearer = BearerAuthenticator(verifier: tokens)
    let lrsCredentials = LRSCredentialCache(credentials: database.lrsCredentials)
    let lrs = LRSAuthenticator(credentials: lrsCredentials, verifier: tokens,
                               realm: "TenantScope LRS")
    // One tenant-keyed cache and one watermark snapshot for reports and ad-hoc SQL (decision 33).
    let cache = configuration.reportCacheBytes > 0
        ? ReportResultCache(maximumBytes: configuration.reportCacheBytes, metrics: metrics.factory) : nil
    let watermarks = RollupWatermarks(database: database)
    let reports = ReportRunner(catalog: catalog, database: database, cache: cache, watermarks: watermarks)

    HealthRoutes(database: database).register(on: router)
    OpenAPIRoute().register(on: router)
    ReportRoutes(runner: reports, authenticator: bearer, audit: audit, limits: limits).register(on: router)
    PlatformTenantRoutes(directory: database.tenants, audit: audit, authenticator: bearer, exportStore: configuration.exports?.store,
                         lrsCredentials: lrsCredentials, customReports: CustomReportStore(database: database))
        .register(on: router)
    XAPIRoutes(store: database.statements, authenticator: lrs, audit: audit, maximumBodyBytes: configuration.maximumBodyBytes,
               metrics: IngestMetrics(factory: metrics.factory), limits: limits).register(on: router)
    XAPIDocumentRoutes(documents: database.documents, statements: database.statements, authenticator: lrs, audit: audit,
                       maximumBodyBytes: configuration.maximumBodyBytes, limits: limits).register(on: router)
    EventRoutes(store: database.featureEvents, authenticator: lrs, audit: audit, maximumBodyBytes: configuration.maximumBodyBytes, limits: limits)
        .register(on: router)
    let sql = GuardedSQLService(database: database, mode: configuration.sqlGuard, limits: configuration.sqlLimits,
                                cache: cache, watermarks: watermarks)
    let customReports = CustomReportStore(database: database)
    let dashboards = DashboardRoutes(runner: reports, verifier: tokens, directory: database.tenants, audit: audit,
                                     sessions: configuration.sessionSigner, embedding: configuration.embedding, savedViews: database.savedViews,
                                     offersExports: configuration.exports != nil,
                                     customReports: CustomReportPanels(store: customReports, sql: sql), limits: limits)
    dashboards.register(on: router)
    SavedViewRoutes(store: database.savedViews, dashboards: dashboards, audit: audit).register(on: router)
    SQLRoutes(service: sql, authenticator: bearer, audit: audit, limits: limits).register(on: router)
    MCPRoutes(tools: MCPTools(reports: reports, sql: sql), authenticator: bearer, audit: audit, limits: limits).register(on: router)
    CustomReportRoutes(store: customReports, sql: sql, authenticator: bearer, audit: audit, limits: limits).register(on: router)
    if let exports = configuration.exports {
        let service = ExportService(database: database, store: exports.store, catalog: catalog, now: exports.now)
        ExportRoutes(service: service, directory: database.tenants, authenticator: bearer, audit: audit, limits: limits).register(on: router)
        DashboardExportRoutes(service: service, dashboards: dashboards, audit: audit, retention: exports.settings.retention).register(on: router)
        ExportScheduleRoutes(schedules: database.exportSchedules, catalog: catalog, authenticator: bearer, audit: audit, limits: limits)
            .register(on: router)
        LearnerErasureRoutes(erasure: LearnerErasure(database: database), jobs: database.exportJobs, store: exports.store, authenticator: bearer, audit: audit,
                             limits: limits)
            .register(on: router)
    }
    return router
}

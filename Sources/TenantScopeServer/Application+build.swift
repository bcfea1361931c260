import Hummingbird
import Logging
import ServiceLifecycle
import TenantScopeCore
import TenantScopePostgres

/// Builds the TenantScope HTTP application: routes, middleware and the database pools as services.
///
/// - Parameters:
///   - services: more services to run with the server (the embedded cluster's supervisor), started
///     first and so stopped last.
///   - beforeServerStarts: work that needs the pools running but must finish before the port opens
///     (loading demo data).
///   - onServerRunning: called with the bound port once the server accepts connections.
public func buildApplication(
    database: Database,
    configuration: ServerConfiguration,
    tokens: TokenVerifier,
    catalog: ReportCatalog,
    logger: Logger,
    services: [any Service] = [],
    beforeServerStarts: (@Sendable () async throws -> Void)? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    var app = Application(
        router: buildRouter(database: database, configuration: configuration, tokens: tokens, catalog: catalog),
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
    if let checkpoints = database.audit.checkpoints {
        app.addServices(AuditCheckpointService(checkpoints: checkpoints, audit: database.audit, logger: logger))
    }
    if let interval = configuration.rollupInterval {
        app.addServices(RollupService(database: database, interval: interval, logger: logger))
    }
    if let beforeServerStarts {
        app.beforeServerStarts(perform: beforeServerStarts)
    }
    return app
}

/// The router with every route and middleware: one place that shows the whole HTTP surface.
///
/// Middleware added here applies to every route, in this order: request logging, security headers
/// (`nosniff`, `no-store`), JSON errors, the
/// presentation of the LRS (version header) and of the pages (HTML errors, security headers), then
/// the tenant-parameter guard. Each route group adds its authenticator and ``ScopeMiddleware``.
func buildRouter(database: Database, configuration: ServerConfiguration, tokens: TokenVerifier, catalog: ReportCatalog) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: XAPIVersionMiddleware())
    router.add(middleware: PageMiddleware(embedding: configuration.embedding))
    router.add(middleware: TenantParameterGuard())

    let audit = database.audit
    let bearer = BearerAuthenticator(verifier: tokens)
    let lrs = LRSAuthenticator(credentials: database.lrsCredentials, verifier: tokens, realm: "TenantScope LRS")
    let reports = ReportRunner(catalog: catalog, database: database)

    HealthRoutes(database: database).register(on: router)
    OpenAPIRoute().register(on: router)
    ReportRoutes(runner: reports, authenticator: bearer, audit: audit).register(on: router)
    PlatformTenantRoutes(directory: database.tenants, audit: audit, authenticator: bearer).register(on: router)
    XAPIRoutes(store: database.statements, authenticator: lrs, audit: audit, maximumBodyBytes: configuration.maximumBodyBytes).register(on: router)
    EventRoutes(store: database.featureEvents, authenticator: lrs, audit: audit, maximumBodyBytes: configuration.maximumBodyBytes).register(on: router)
    let dashboards = DashboardRoutes(runner: reports, verifier: tokens, directory: database.tenants, audit: audit,
                                     sessions: configuration.sessionSigner, embedding: configuration.embedding, savedViews: database.savedViews)
    dashboards.register(on: router)
    SavedViewRoutes(store: database.savedViews, dashboards: dashboards, audit: audit).register(on: router)
    return router
}

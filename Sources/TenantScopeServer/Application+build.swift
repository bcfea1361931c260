import Hummingbird
import Logging
import NIOCore
import TenantScopeCore
import TenantScopePostgres

/// Builds the TenantScope HTTP application: routes, middleware and the database pools as services.
///
/// - Parameters:
///   - beforeServerStarts: work that needs the pools running but must finish before the port opens
///     (loading demo data).
///   - onServerRunning: called with the bound port once the server accepts connections.
public func buildApplication(
    database: Database,
    configuration: ServerConfiguration,
    tokens: TokenVerifier,
    catalog: ReportCatalog,
    logger: Logger,
    beforeServerStarts: (@Sendable () async throws -> Void)? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: ErrorMiddleware())
    HealthRoutes(database: database).register(on: router)
    OpenAPIRoute().register(on: router)
    let reports = ReportRunner(catalog: catalog, database: database, logger: logger)
    ReportRoutes(runner: reports, verifier: tokens).register(on: router)
    let dashboards = DashboardRoutes(runner: reports, verifier: tokens, directory: database.tenants, audit: database.audit,
                                     sessions: configuration.sessionSigner, embedding: configuration.embedding, savedViews: database.savedViews)
    dashboards.register(on: router)
    SavedViewRoutes(store: database.savedViews, dashboards: dashboards, audit: database.audit).register(on: router)
    let writers = WriterAuthenticator(credentials: database.lrsCredentials, verifier: tokens, realm: "TenantScope LRS")
    XAPIRoutes(store: database.statements, authenticator: writers, maximumBodyBytes: configuration.maximumBodyBytes).register(on: router)
    EventRoutes(store: database.featureEvents, authenticator: writers, maximumBodyBytes: configuration.maximumBodyBytes).register(on: router)
    PlatformTenantRoutes(directory: database.tenants, audit: database.audit, verifier: tokens).register(on: router)

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "TenantScope"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
    app.addServices(database.services)
    if let interval = configuration.rollupInterval {
        app.addServices(RollupService(database: database, interval: interval, logger: logger))
    }
    if let beforeServerStarts {
        app.beforeServerStarts(perform: beforeServerStarts)
    }
    return app
}

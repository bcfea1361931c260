import CoreMetrics
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// The database as the running server sees it: a pool of the server's login role (`tenantscope_app`:
/// platform transactions and the runtime functions), a pool of the tenant login (`tenantscope_app_tenant`:
/// tenant transactions only, decision 28), and nothing else.
///
/// The server holds no owner login (architecture decision 21): migrations run before the port opens on
/// a connection that is then closed, and every runtime operation that needs more than the tenant and
/// platform roles (the runtime keys, the tenant directory, tenant deletion, LRS key lookup, signed audit
/// appends, the credential state) is a narrow SECURITY DEFINER function the login role may execute.
/// Operator work that needs the owner (creating tenants, managing LRS keys, revoking, reading the audit
/// trail) lives in ``AdminDatabase``, for the command line.
///
/// The pool is a `Service`: the server adds it to its service group, commands use ``withRunningClients(_:)``.
public final class Database: Sendable {
    public let appEndpoint: DatabaseEndpoint
    /// The tenant login's endpoint: the server's host and database, the tenant login and its password.
    public let tenantEndpoint: DatabaseEndpoint
    /// The server role's pool, with bounded waits.
    public let pool: DatabasePool
    /// The tenant login's pool: the only connections tenant transactions run on.
    public let tenantPool: DatabasePool
    /// The tenant-scoped session helper: the only path to tenant tables.
    public let sessions: ScopedDatabase
    public let tenants: TenantDirectory
    public let audit: AuditLog
    /// Live tenants and recent revocations, for the server's credential cache.
    public let credentialState: CredentialStateStore
    /// The Learning Record Store's statements, through ``sessions``.
    public let statements: StatementStore
    /// Notes this process's ingest for the roll-up service, which may start a pass once ingest is quiet (decision 81).
    public let rollupWakeup: RollupWakeup
    /// The xAPI State, Activity Profile and Agent Profile documents, through ``sessions``.
    public let documents: DocumentStore
    public let featureEvents: FeatureEventStore
    public let lrsCredentials: LRSCredentials
    /// Each tenant's tier limits and overrides (migration 25).
    public let tenantLimits: TenantLimitStore
    /// Saved dashboard views and shared links, through ``sessions``.
    public let savedViews: SavedViewStore
    /// Export jobs and their schedules, through ``sessions`` (architecture decision 44).
    public let exportJobs: ExportJobStore
    public let exportSchedules: ExportScheduleStore
    /// Signs and verifies export download links.
    public let exportLinks: ExportLinkSigner
    /// The read replicas reports, the SQL surface and exports read from (none unless configured).
    public let replicas: ReplicaSet?
    /// Which cluster this database is: `pool` (the control database) or a dedicated cluster.
    public let cluster: ClusterName
    /// The dedicated clusters tenants may be placed on, each opened as its own ``Database``, including those added
    /// after start-up (nil on a dedicated cluster itself). Tenant scopes reach them through ``sessions``
    /// (``ClusterRouter``).
    public let dedicated: DedicatedClusters?
    /// Which cluster holds each tenant; refreshed with the credential state.
    public let placement: TenantPlacement
    /// The server login's pool of this database and of each dedicated cluster, for work over every tenant.
    public let clusterPools: ClusterPools
    private let logger: Logger

    /// Applies pending migrations and reads the server role's password with one owner connection each,
    /// both closed before this returns; then opens the server's own pool. The owner endpoint is not kept.
    /// `metrics` makes the pool's gauges (in use, waiters, up).
    public static func prepare(
        ownerEndpoint: DatabaseEndpoint, logger: Logger, checkpoints: AuditCheckpoints? = nil, limits: Limits = Limits(),
        metrics: any MetricsFactory = MetricsSystem.factory, replicas: ReplicaConfiguration? = nil,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Database {
        try await Migrator(ownerEndpoint: ownerEndpoint, logger: logger).migrate(progress: progress)
        try await migrateDedicatedClusters(controlOwner: ownerEndpoint, logger: logger, progress: progress)
        let appEndpoint = try await appEndpoint(ownerEndpoint: ownerEndpoint, logger: logger)
        return try await open(appEndpoint: appEndpoint, logger: logger, checkpoints: checkpoints, limits: limits, metrics: metrics,
                              replicas: replicas)
    }

    /// Applies pending migrations to every dedicated cluster, as its owner (whose login the control database
    /// keeps for the operator's commands), so the schema is the same everywhere before the server opens them.
    public static func migrateDedicatedClusters(controlOwner: DatabaseEndpoint, logger: Logger, progress: @Sendable (String) -> Void) async throws {
        let owners = try await OneShotConnection.with(controlOwner, logger: logger) { connection in
            try await connection.query("\(unescaped: ClusterRegistry.ownerEndpointsQuery) ORDER BY name", logger: logger).collect()
                .map(ClusterRegistry.decodeOwnerEndpoint)
        }
        for (name, owner) in owners {
            progress("Dedicated cluster \(name):")
            try await Migrator(ownerEndpoint: owner, logger: logger).migrate(progress: progress)
        }
    }

    /// How long the server waits on PostgreSQL: for a connection, and for a statement (request work;
    /// background rebuilds set their own). A use that exceeds either is a 503, never a hang. Carried with them to every
    /// cluster: whether reads and writes that can run as one call of a session function do (``SessionFunctions``), and
    /// how many connections each pool opens at most (the server login's, the tenant login's).
    public struct Limits: Sendable {
        public var acquireTimeout: Duration
        public var statementTimeout: Duration
        public var sessionFunctions: Bool
        public var appConnections: Int
        public var tenantConnections: Int

        public init(acquireTimeout: Duration = DatabasePool.defaultAcquireTimeout, statementTimeout: Duration = .seconds(30),
                    sessionFunctions: Bool = true, appConnections: Int = 10, tenantConnections: Int = 20) {
            self.acquireTimeout = acquireTimeout
            self.statementTimeout = statementTimeout
            self.sessionFunctions = sessionFunctions
            self.appConnections = appConnections
            self.tenantConnections = tenantConnections
        }
    }

    /// The server role's endpoint: the owner's, with the role's generated password (read once, as the owner).
    public static func appEndpoint(ownerEndpoint: DatabaseEndpoint, logger: Logger) async throws -> DatabaseEndpoint {
        let password = try await OneShotConnection.with(ownerEndpoint, logger: logger) { connection in
            try await connection.query("SELECT value FROM app_private.settings WHERE key = 'app_role_password'", logger: logger)
                .collect().first?.decode(String.self)
        }
        guard let password else {
            throw TenantScopeError.environment("app_private.settings has no app_role_password; the migrations did not complete")
        }
        return ownerEndpoint.with(username: appRole, password: password)
    }

    /// The server's login role.
    public static let appRole = "tenantscope_app"
    /// The login of tenant transactions: a member of the tenant role only.
    public static let tenantLoginRole = "tenantscope_app_tenant"

    /// Opens the server's pool on an already migrated database, as the server's login role only: checks
    /// the schema version and reads the runtime keys through `app.runtime_keys()` and the tenant login's
    /// password through `app.tenant_login_password()`.
    public static func open(
        appEndpoint: DatabaseEndpoint, logger: Logger, checkpoints: AuditCheckpoints? = nil, limits: Limits = Limits(),
        metrics: any MetricsFactory = MetricsSystem.factory, replicas: ReplicaConfiguration? = nil, cluster: ClusterName = .pool
    ) async throws -> Database {
        // One connection reads the version, the keys and (in the control database) the dedicated clusters.
        let (version, contextKey, linkKey, tenantPassword, dedicatedEndpoints) = try await OneShotConnection.with(appEndpoint, logger: logger) {
            connection in
            let version = try await connection.query("SELECT app.schema_version()", logger: logger).collect().first?.decode(Int.self) ?? 0
            guard version == Migration.latestVersion else { return (version, "", "", "", [(ClusterName, DatabaseEndpoint)]()) }
            let keys = try await connection.query("""
                SELECT k.tenant_context_key, k.shared_link_key, app.tenant_login_password() FROM app.runtime_keys() k
                """, logger: logger).collect().first?.decode((String?, String?, String?).self)
            let dedicated = cluster.isPool ? try await dedicatedClusterEndpoints(on: connection, logger: logger) : []
            return (version, keys?.0 ?? "", keys?.1 ?? "", keys?.2 ?? "", dedicated)
        }
        guard version == Migration.latestVersion else {
            let which = cluster.isPool ? "the database schema" : "the schema of the dedicated cluster '\(cluster)'"
            throw TenantScopeError.environment(
                "\(which) is at version \(version), this build needs \(Migration.latestVersion): run `tenantscope migrate` with the owner's URL first")
        }
        // The control database names the dedicated clusters; each is opened the same way, as the server login only.
        var dedicated: [ClusterName: Database] = [:]
        if cluster.isPool {
            for (name, endpoint) in dedicatedEndpoints {
                do {
                    dedicated[name] = try await open(appEndpoint: endpoint, logger: logger, limits: limits, metrics: metrics, cluster: name)
                } catch let error as TenantScopeError {
                    throw error
                } catch {
                    throw TenantScopeError.environment(
                        "the dedicated cluster '\(name)' at \(endpoint.redactedURL) could not be opened: \(String(describing: error))")
                }
            }
        }
        return try Database(appEndpoint: appEndpoint, tenantEndpoint: appEndpoint.with(username: tenantLoginRole, password: tenantPassword),
                            contextKeyHex: contextKey, linkKeyHex: linkKey, checkpoints: checkpoints, limits: limits, logger: logger,
                            metrics: metrics, replicas: replicas, cluster: cluster, dedicatedClusters: dedicated)
    }

    /// The server-login endpoints of the dedicated clusters, from the control database.
    static func dedicatedClusterEndpoints(on connection: PostgresConnection, logger: Logger) async throws -> [(ClusterName, DatabaseEndpoint)] {
        try await connection.query("SELECT name, host, port, database, tls, app_password FROM app.dedicated_clusters()", logger: logger)
            .collect().map { row in
                let (name, host, port, database, tls, password) = try row.decode((String, String, Int, String, String, String).self)
                let endpoint = DatabaseEndpoint(host: host, port: port, username: appRole, password: password, database: database,
                                                tls: DatabaseEndpoint.TLSMode(rawValue: tls) ?? .require)
                return (try ClusterName(name), endpoint)
            }
    }

    init(appEndpoint: DatabaseEndpoint, tenantEndpoint: DatabaseEndpoint, contextKeyHex: String, linkKeyHex: String,
         checkpoints: AuditCheckpoints? = nil, limits: Limits = Limits(), logger: Logger,
         metrics: any MetricsFactory = MetricsSystem.factory, replicas: ReplicaConfiguration? = nil, cluster: ClusterName = .pool,
         dedicatedClusters: [ClusterName: Database] = [:]) throws {
        self.appEndpoint = appEndpoint
        self.tenantEndpoint = tenantEndpoint
        self.cluster = cluster
        // One health for both pools: the database is up or down for the server as a whole. A dedicated
        // cluster's gauges carry its name, so its outage never reads as the pool's.
        let dimensions = cluster.isPool ? [] : [("cluster", cluster.rawValue)]
        let health = DatabaseHealth(logger: logger, metrics: metrics, label: cluster.isPool ? "tenantscope_db_up" : "tenantscope_db_cluster_up",
                                    dimensions: dimensions)
        let gaugePrefix = cluster.isPool ? "tenantscope_db_pool" : "tenantscope_db_cluster_pool"
        let poolName = cluster.isPool ? "" : "\(cluster)-"
        let app = PostgresClient(configuration: appEndpoint.clientConfiguration(maximumConnections: limits.appConnections), backgroundLogger: logger)
        self.pool = DatabasePool(client: app, acquireTimeout: limits.acquireTimeout,
                                 defaultDeadline: limits.statementTimeout + DatabasePool.grace, health: health, name: poolName + "app",
                                 logger: logger, metrics: metrics, gaugePrefix: gaugePrefix, gaugeDimensions: dimensions)
        let tenant = PostgresClient(configuration: tenantEndpoint.clientConfiguration(maximumConnections: limits.tenantConnections),
                                    backgroundLogger: logger)
        self.tenantPool = DatabasePool(client: tenant, acquireTimeout: limits.acquireTimeout,
                                       defaultDeadline: limits.statementTimeout + DatabasePool.grace, health: health, name: poolName + "tenant",
                                       logger: logger, metrics: metrics, gaugePrefix: gaugePrefix, gaugeDimensions: dimensions)
        let replicaSet = replicas.flatMap { configuration in
            configuration.endpoints.isEmpty ? nil : ReplicaSet(
                configuration: configuration, appPassword: appEndpoint.password ?? "", tenantPassword: tenantEndpoint.password ?? "",
                statementTimeout: limits.statementTimeout, logger: logger, metrics: metrics)
        }
        self.replicas = replicaSet
        let placement = TenantPlacement()
        self.placement = placement
        // The control database keeps the set of dedicated clusters open, those of today and those added later.
        let dedicated = cluster.isPool ? DedicatedClusters(initial: dedicatedClusters, control: pool, logger: logger) {
            [logger, limits, metrics] name, endpoint in
            try await Database.open(appEndpoint: endpoint, logger: logger, limits: limits, metrics: metrics, cluster: name)
        } : nil
        self.dedicated = dedicated
        let router = dedicated.map { [pool] in ClusterRouter(placement: placement, dedicated: $0, control: pool) }
        self.sessions = ScopedDatabase(tenantPool: tenantPool, platformPool: pool, signer: try TenantContextSigner(keyHex: contextKeyHex),
                                       statementTimeout: limits.statementTimeout, replicas: replicaSet, router: router,
                                       sessionFunctions: limits.sessionFunctions)
        self.tenants = TenantDirectory(pool: pool, dedicated: dedicated)
        self.audit = AuditLog(pool: pool, signer: try AuditPrincipalSigner(keyHex: contextKeyHex), checkpoints: checkpoints)
        self.credentialState = CredentialStateStore(pool: pool, placement: placement)
        let rollupWakeup = RollupWakeup()
        self.rollupWakeup = rollupWakeup
        self.statements = StatementStore(sessions: sessions, cursors: try StatementCursorSigner(keyHex: linkKeyHex), wakeup: rollupWakeup)
        self.documents = DocumentStore(sessions: sessions)
        self.featureEvents = FeatureEventStore(sessions: sessions)
        self.lrsCredentials = LRSCredentials(pool: pool)
        self.tenantLimits = TenantLimitStore(pool: pool)
        let clusterPools = ClusterPools(control: (cluster, pool), dedicated: dedicated)
        self.clusterPools = clusterPools
        self.savedViews = SavedViewStore(sessions: sessions, clusterPools: clusterPools, linkSigner: try SharedLinkSigner(keyHex: linkKeyHex))
        self.exportJobs = ExportJobStore(sessions: sessions, clusterPools: clusterPools)
        self.exportSchedules = ExportScheduleStore(sessions: sessions)
        self.exportLinks = try ExportLinkSigner(linkKeyHex: linkKeyHex)
        self.logger = logger
    }

    /// The pools and the replicas' lag monitor, for a service group.
    public var services: [any Service] {
        var services: [any Service] = [pool.service, tenantPool.service]
        if let replicas {
            services += replicas.poolServices
            services.append(ReplicaLagMonitor(primary: pool, replicas: replicas, logger: logger))
        }
        return services + (dedicated.map { [$0] } ?? [])
    }

    /// This database and the dedicated clusters open now, the pool first, then by name: what work that visits every
    /// tenant (roll-ups, exports, platform reports) goes over.
    public var clusters: [Database] {
        [self] + (dedicated?.all ?? [])
    }

    /// Runs the pool for the duration of `body` (for commands and tests that have no service group).
    public func withRunningClients<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let pools = self.runningPools
            for pool in pools {
                group.addTask { await pool.run() }
            }
            if let replicas = self.replicas {
                group.addTask { try? await ReplicaLagMonitor(primary: self.pool, replicas: replicas, logger: self.logger).run() }
            }
            // It runs the dedicated clusters' pools, and opens a cluster added while the body runs.
            if let dedicated = self.dedicated {
                group.addTask { try? await dedicated.run() }
            }
            defer { group.cancelAll() }
            // The body's first query must not lease from a client whose run() has not begun yet.
            for pool in pools + self.clusters.dropFirst().flatMap({ [$0.pool, $0.tenantPool] }) { await pool.waitUntilRunning() }
            try Task.checkCancellation()
            return try await body()
        }
    }

    /// The pools ``withRunningClients(_:)`` runs itself: both of this database and of each read replica (the
    /// dedicated clusters' run under ``DedicatedClusters``).
    private var runningPools: [DatabasePool] {
        [pool, tenantPool] + (replicas?.replicas ?? []).flatMap { [$0.appPool, $0.tenantPool] }
    }

    /// Readiness: the server's role can connect and the schema is at this build's version.
    ///
    /// Bounded by `timeout`, so a probe against an unreachable database answers instead of hanging.
    public func readiness(timeout: Duration = .seconds(3)) async -> (ready: Bool, detail: String) {
        await withTaskGroup(of: (ready: Bool, detail: String).self) { group in
            group.addTask {
                do {
                    let rows = try await self.pool.query("SELECT app.schema_version()", logger: self.logger)
                    let version = try rows.first?.decode(Int.self) ?? 0
                    guard version == Migration.latestVersion else {
                        return (false, "schema version \(version), expected \(Migration.latestVersion)")
                    }
                    return (true, "schema version \(version)")
                } catch {
                    return (false, "database unreachable")
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return (false, "database did not answer within \(timeout)")
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }
}

import TenantScopeCore
import TenantScopePostgres

/// Where the HTTP server listens and how much it accepts.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The largest request body accepted (statement batches, event batches); larger ones get 413.
    public var maximumBodyBytes: Int
    /// How long a connection may send nothing, while its request is read or between requests, before it is closed. A
    /// request's slot (its tenant's concurrency, its tier's budget) is taken before its body is read: a body that stalls
    /// would otherwise hold the slot as long as the client keeps the connection open.
    public var idleTimeout: Duration = Self.defaultIdleTimeout
    public static let defaultIdleTimeout: Duration = .seconds(30)

    /// How often the roll-up service catches every tenant up; nil runs no roll-up service.
    public var rollupInterval: Duration?
    /// How many tenants a roll-up pass catches up at once.
    public var rollupConcurrency: Int
    /// How long ingest must be quiet, after it queued work, for a roll-up pass to start before the interval is up; nil
    /// keeps to the interval.
    public var rollupQuietPeriod: Duration?
    /// How many tenants a roll-up pass that quiet ingest started catches up at once.
    public var rollupQuietConcurrency: Int
    /// How long a roll-up catch-up waits for its tenant's derivation lock before the pass leaves that tenant to the next.
    public var rollupLockWait: Duration
    /// Who may frame the dashboards, and how session cookies are set.
    public var embedding: EmbeddingPolicy
    /// Signs dashboard session cookies; a random key (sessions end with the process) unless given.
    public var sessionSigner: DashboardSessionSigner
    /// Where `/metrics` is served, apart from the API (architecture decision 30); nil serves it nowhere.
    public var metricsListener: MetricsListener?
    /// The memory budget of the tenant-keyed report cache (architecture decision 33); 0 turns it off.
    public var reportCacheBytes: Int

    /// Export jobs: their object store and limits; nil serves no export routes and runs no export worker.
    public var exports: ExportConfiguration?

    /// The address of the metrics listener.
    public struct MetricsListener: Sendable {
        public var host: String
        public var port: Int

        public init(host: String = "127.0.0.1", port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The guarded SQL surface's limits (time, memory, temp files, rows).
    public var sqlLimits: SQLSandbox.Limits = .init()
    /// How the per-tenant limits of tiers and overrides wait and reload (nil: no per-tenant limits at all).
    public var tenantLimits: TenantLimitEnforcer.Settings? = .init()
    /// Whether the SQL surface's parser guard runs: only tests turn it off, to prove the second layer.
    public var sqlGuard: GuardedSQLService.GuardMode = .enforced

    public static let defaultMaximumBodyBytes = 8 * 1024 * 1024

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maximumBodyBytes: Int = defaultMaximumBodyBytes,
        rollupInterval: Duration? = RollupService.defaultInterval, rollupConcurrency: Int = RollupService.defaultConcurrency,
        rollupQuietPeriod: Duration? = RollupService.defaultQuietPeriod, rollupQuietConcurrency: Int = RollupService.defaultQuietConcurrency,
        rollupLockWait: Duration = RollupService.defaultLockWait, embedding: EmbeddingPolicy = EmbeddingPolicy(),
        sessionSigner: DashboardSessionSigner = .random(), metricsListener: MetricsListener? = nil,
        reportCacheBytes: Int = ReportResultCache.defaultMaximumBytes, exports: ExportConfiguration? = nil,
        tenantLimits: TenantLimitEnforcer.Settings? = .init()
    ) {
        self.tenantLimits = tenantLimits
        self.exports = exports
        self.reportCacheBytes = reportCacheBytes
        self.metricsListener = metricsListener
        self.embedding = embedding
        self.sessionSigner = sessionSigner
        self.host = host
        self.port = port
        self.maximumBodyBytes = maximumBodyBytes
        self.rollupInterval = rollupInterval
        self.rollupConcurrency = rollupConcurrency
        self.rollupQuietPeriod = rollupQuietPeriod
        self.rollupQuietConcurrency = rollupQuietConcurrency
        self.rollupLockWait = rollupLockWait
    }
}

import Logging
import ServiceLifecycle
import TenantScopeCore
import TenantScopePostgres

/// Every tenant's limits, held in memory so a request checks its limits without a database round trip, and
/// reloaded in the background every `refreshInterval` (5 s): a change an operator makes with
/// `tenantscope tier set` or `tenantscope tenant limits` applies within about that long.
///
/// A tenant the snapshot does not know (created since the last load) makes the next request of that tenant
/// load afresh, so its tier and overrides hold from its first request; a tenant still unknown after that
/// gets ``TenantLimits/newTenantDefault`` until the next reload. When loading fails the last snapshot stays
/// in force: limits protect the other tenants and must not turn off because the database blinked.
public actor TenantLimitsCache: Service {
    public static let defaultRefreshInterval: Duration = .seconds(5)

    private let store: TenantLimitStore
    private let refreshInterval: Duration
    private let logger: Logger
    private var snapshot: [TenantID: TenantLimits] = [:]
    private var loadedAt: ContinuousClock.Instant?
    /// When each unknown tenant last made a load, so unknown tenants cost at most one load per interval.
    private var misses: [TenantID: ContinuousClock.Instant] = [:]
    private var loading: (startedAt: ContinuousClock.Instant, task: Task<[TenantID: TenantLimits], any Error>)?

    public init(store: TenantLimitStore, refreshInterval: Duration = defaultRefreshInterval, logger: Logger) {
        self.store = store
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    public func limits(for tenant: TenantID, logger: Logger) async -> TenantLimits {
        if let limits = snapshot[tenant] { return limits }
        let now = ContinuousClock.now
        if let missedAt = misses[tenant], missedAt.duration(to: now) < refreshInterval {
            // Requests that arrive while the tenant's first request loads share that load: answering them the
            // default would run a tenant's concurrent first requests under the standard tier's limits.
            if let loading, loading.startedAt >= missedAt, let loaded = try? await loading.task.value {
                return loaded[tenant] ?? .newTenantDefault
            }
            return .newTenantDefault
        }
        misses[tenant] = now
        if misses.count > 10_000 { misses = misses.filter { $0.value.duration(to: now) < refreshInterval } }
        do {
            return try await load(startedNoEarlierThan: now, logger: logger)[tenant] ?? .newTenantDefault
        } catch {
            logUnavailable(error, logger: logger)
            return .newTenantDefault
        }
    }

    /// Loads afresh: the snapshot it returns was read after this call began.
    @discardableResult
    public func refresh(logger: Logger) async throws -> [TenantID: TenantLimits] {
        try await load(startedNoEarlierThan: .now, logger: logger)
    }

    /// Shares a load that started at or after `instant`; otherwise starts one.
    private func load(startedNoEarlierThan instant: ContinuousClock.Instant, logger: Logger) async throws -> [TenantID: TenantLimits] {
        if let loading, loading.startedAt >= instant { return try await loading.task.value }
        let startedAt = ContinuousClock.now
        let task = Task { [store] in try await store.load(logger: logger) }
        loading = (startedAt, task)
        defer { if loading?.startedAt == startedAt { loading = nil } }
        let loaded = try await task.value
        // Loads may finish out of order: keep the one that started last.
        if loadedAt.map({ $0 <= startedAt }) ?? true {
            snapshot = loaded
            loadedAt = startedAt
            misses = misses.filter { loaded[$0.key] == nil }
        }
        return loaded
    }

    /// Before the first load succeeds every tenant gets the standard defaults, an enterprise tenant too:
    /// worth a notice. Once loaded, a failed load keeps the last limits, and saying so each time is debug.
    private func logUnavailable(_ error: any Error, logger: Logger) {
        let metadata: Logger.Metadata = ["error.type": "\(type(of: error))"]
        if loadedAt == nil {
            logger.notice("Tenant limits not loaded yet; every tenant gets the standard defaults", metadata: metadata)
        } else {
            logger.debug("Tenant limits reload failed; the last ones stay in force", metadata: metadata)
        }
    }

    /// Keeps the snapshot fresh until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.refresh(logger: self.logger)
                } catch where !Task.isCancelled {
                    await self.logUnavailable(error, logger: self.logger)
                } catch {
                    break
                }
                try? await Task.sleep(for: self.refreshInterval)
            }
        }
    }
}

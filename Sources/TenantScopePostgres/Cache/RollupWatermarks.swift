import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Every tenant's roll-up watermark (`refreshed_at`), as the report cache keys its entries by it.
///
/// Loaded whole (one row per tenant that has roll-ups) through `app.rollup_watermarks()` and reused for
/// `refreshInterval` (1 s): a request costs no round trip for it, and a catch-up is seen within about a
/// second. Loads are shared by the requests that find the snapshot old. When a load fails the answer is
/// nil — "do not cache" — for the next interval, never an error: the cache must not fail a report the
/// database can answer.
public actor RollupWatermarks {
    public static let defaultRefreshInterval: Duration = .seconds(1)

    /// The server login's pool of every cluster, read at each load: each tenant's watermark is in its own cluster.
    private let pools: @Sendable () -> [DatabasePool]
    private let refreshInterval: Duration
    private var snapshot: (loadedAt: ContinuousClock.Instant, watermarks: [TenantID: Date])?
    private var loading: Task<[TenantID: Date], any Error>?

    public init(pool: DatabasePool, refreshInterval: Duration = defaultRefreshInterval) {
        self.init(pools: [pool], refreshInterval: refreshInterval)
    }

    public init(pools: [DatabasePool], refreshInterval: Duration = defaultRefreshInterval) {
        self.init(refreshInterval: refreshInterval) { pools }
    }

    init(refreshInterval: Duration, pools: @escaping @Sendable () -> [DatabasePool]) {
        self.pools = pools
        self.refreshInterval = refreshInterval
    }

    /// Every cluster's watermarks, a dedicated cluster added since start-up's too once it is open.
    public init(database: Database, refreshInterval: Duration = defaultRefreshInterval) {
        let clusterPools = database.clusterPools
        self.init(refreshInterval: refreshInterval) { clusterPools.pools.map(\.pool) }
    }

    /// The tenant's watermark as of at most `refreshInterval` ago, or nil when it has none (no roll-ups
    /// yet) or the watermarks cannot be read.
    public func watermark(of tenant: TenantID, logger: Logger) async -> Date? {
        if let snapshot, snapshot.loadedAt.duration(to: .now) < refreshInterval {
            return snapshot.watermarks[tenant]
        }
        do {
            return try await reload(logger: logger)[tenant]
        } catch {
            logger.debug("Roll-up watermarks unavailable; not caching", metadata: ["error.type": "\(type(of: error))"])
            return nil
        }
    }

    private func reload(logger: Logger) async throws -> [TenantID: Date] {
        if let loading { return try await loading.value }
        let startedAt = ContinuousClock.now
        let task = Task { [pools] in
            var watermarks: [TenantID: Date] = [:]
            for pool in pools() {
                for row in try await pool.query("SELECT tenant_id, refreshed_at FROM app.rollup_watermarks()", logger: logger) {
                    let (tenant, refreshedAt) = try row.decode((UUID, Date).self)
                    watermarks[TenantID(tenant)] = refreshedAt
                }
            }
            return watermarks
        }
        loading = task
        defer { loading = nil }
        do {
            let watermarks = try await task.value
            // Dated from when the load started: whatever committed before that is in it.
            snapshot = (startedAt, watermarks)
            return watermarks
        } catch {
            // No watermarks for an interval ("do not cache" for every tenant): during an outage requests
            // then go straight to their own database use instead of each first waiting out another load.
            snapshot = (startedAt, [:])
            throw error
        }
    }
}

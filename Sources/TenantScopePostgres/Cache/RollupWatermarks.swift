import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Every tenant's roll-up watermark (`refreshed_at`), as the report cache keys its entries by it.
///
/// Loaded per cluster (one row per tenant with roll-ups, through `app.rollup_watermarks()`) and reused for
/// `refreshInterval` (1 s): a request costs no round trip for it, and a catch-up is seen within about a
/// second. A cluster's load is shared by the requests that find its snapshot old, and the clusters load
/// independently: a request waits for the loads under way only until one finds its tenant, so a cluster
/// that cannot answer holds up only its own tenants (and tenants without roll-ups yet, which no load finds).
/// When a cluster's load fails, its tenants' answer is nil — "do not cache" — for the next interval, never
/// an error: the cache must not fail a report the database can answer.
public actor RollupWatermarks {
    public static let defaultRefreshInterval: Duration = .seconds(1)

    /// The server login's pool of every cluster, read at each lookup: each tenant's watermark is in its own cluster.
    private let pools: @Sendable () -> [(name: ClusterName, pool: DatabasePool)]
    private let refreshInterval: Duration
    /// Each cluster's watermarks and when they stop being fresh: a load's start plus the interval (whatever committed
    /// before the load began is in it), or a failed load's end plus the interval.
    private var snapshots: [ClusterName: (freshUntil: ContinuousClock.Instant, watermarks: [TenantID: Date])] = [:]
    private var loading: [ClusterName: Task<[TenantID: Date], Never>] = [:]

    public init(pool: DatabasePool, refreshInterval: Duration = defaultRefreshInterval) {
        self.init(refreshInterval: refreshInterval) { [(.pool, pool)] }
    }

    init(refreshInterval: Duration, pools: @escaping @Sendable () -> [(name: ClusterName, pool: DatabasePool)]) {
        self.pools = pools
        self.refreshInterval = refreshInterval
    }

    /// Every cluster's watermarks, a dedicated cluster added since start-up's too once it is open.
    public init(database: Database, refreshInterval: Duration = defaultRefreshInterval) {
        let clusterPools = database.clusterPools
        self.init(refreshInterval: refreshInterval) { clusterPools.pools }
    }

    /// The tenant's watermark as of at most `refreshInterval` ago, or nil when it has none (no roll-ups
    /// yet) or its cluster's watermarks cannot be read.
    public func watermark(of tenant: TenantID, logger: Logger) async -> Date? {
        var loads: [Task<[TenantID: Date], Never>] = []
        for (name, pool) in pools() {
            if let snapshot = snapshots[name], ContinuousClock.now < snapshot.freshUntil {
                if let watermark = snapshot.watermarks[tenant] { return watermark }
            } else {
                loads.append(load(name, pool, logger: logger))
            }
        }
        if loads.count <= 1 { return await loads.first?.value[tenant] }
        // The first load to find the tenant answers; the others go on for the requests after this one.
        let (found, continuation) = AsyncStream.makeStream(of: Date?.self)
        for load in loads { Task { continuation.yield(await load.value[tenant]) } }
        var answered = 0
        for await watermark in found {
            answered += 1
            if watermark != nil || answered == loads.count {
                continuation.finish()
                return watermark
            }
        }
        return nil
    }

    /// The load of `name`'s watermarks under way, or a new one.
    private func load(_ name: ClusterName, _ pool: DatabasePool, logger: Logger) -> Task<[TenantID: Date], Never> {
        if let task = loading[name] { return task }
        let startedAt = ContinuousClock.now
        let task = Task { [refreshInterval] () -> [TenantID: Date] in
            do {
                var watermarks: [TenantID: Date] = [:]
                for row in try await pool.query("SELECT tenant_id, refreshed_at FROM app.rollup_watermarks()", logger: logger) {
                    let (tenant, refreshedAt) = try row.decode((UUID, Date).self)
                    watermarks[TenantID(tenant)] = refreshedAt
                }
                self.loaded(name, watermarks, freshUntil: startedAt + refreshInterval)
                return watermarks
            } catch {
                logger.debug("Roll-up watermarks unavailable; not caching", metadata: [
                    "db.cluster": "\(name)", "error.type": "\(type(of: error))",
                ])
                // None for an interval from now: during an outage the cluster's tenants' requests go straight to their
                // own database use instead of each first waiting out another load.
                self.loaded(name, [:], freshUntil: .now + refreshInterval)
                return [:]
            }
        }
        loading[name] = task
        return task
    }

    private func loaded(_ name: ClusterName, _ watermarks: [TenantID: Date], freshUntil: ContinuousClock.Instant) {
        snapshots[name] = (freshUntil, watermarks)
        loading[name] = nil
    }
}

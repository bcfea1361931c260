import CoreMetrics
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// Keeps every tenant's derived facts and daily roll-ups current: every `interval` it asks which tenants
/// have work queued by ingest, and only those, inside their scoped transactions, derive the queued actors
/// (`app.derive_queued_learning_facts`) and recompute the queued days (`app.catch_up_rollups`).
///
/// The ingest transaction queues the days its statements fall on, and a voiding statement its target's
/// day, so late statements and voiding are recomputed; the queue rows commit with their batch, so a batch
/// that committed after a later one was seen is still taken by the next pass (architecture decision 32).
public struct RollupService: Service {
    public static let defaultInterval: Duration = .seconds(5)
    public static let overlap = RollupCoverage.overlap

    private let database: Database
    private let interval: Duration
    private let logger: Logger
    private let metrics: RollupMetrics

    public init(database: Database, interval: Duration = Self.defaultInterval, logger: Logger,
                metrics: any MetricsFactory = MetricsSystem.factory) {
        self.database = database
        self.interval = interval
        self.logger = logger
        self.metrics = RollupMetrics(factory: metrics)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.pass()
                } catch where Task.isCancelled {
                    break  // shutting down
                } catch {
                    self.metrics.failures.increment()
                    self.logger.warning("Roll-up catch-up failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                // A pass drains each tenant's whole queue, so waiting never builds a backlog; it lets many
                // batches' actors coalesce into one derivation and leaves the cores to ingest meanwhile.
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// One pass of the service: asks which tenants have queued work (one query, no tenant transaction),
    /// records the backlog (the gauges), then catches up those tenants only. With nothing new anywhere a
    /// pass costs that one query (architecture decision 32). A tenant whose catch-up fails is logged and
    /// counted, and retried on the next pass; the others are still caught up. `among` limits the pass to
    /// some tenants (tests share one database with other tests' tenants). Returns the tenants caught up.
    @discardableResult
    public func pass(among: Set<TenantID>? = nil) async throws -> Int {
        let pending = try await pendingWork().filter { among?.contains($0.tenant) ?? true }
        metrics.queueDepth.record(pending.reduce(0) { $0 + $1.queued })
        let now = Date()
        metrics.lagSeconds.record(pending.map { max(now.timeIntervalSince($0.oldest), 0) }.max() ?? 0)
        var caughtUp = 0
        for work in pending {
            try Task.checkCancellation()
            do {
                try await catchUp(work.tenant)
                metrics.tenantCatchUps.increment()
                caughtUp += 1
            } catch where !Task.isCancelled {
                metrics.failures.increment()
                logger.warning("Roll-up catch-up of a tenant failed; retrying on the next pass", metadata: [
                    "tenant.id": "\(work.tenant)", "error": "\(String(reflecting: error))",
                ])
            }
        }
        metrics.passes.increment()
        return caughtUp
    }

    /// What ingest has queued and the service has not yet taken, per tenant: the tenant, how many queue
    /// rows (actors to derive and days to recompute), and when the oldest was queued. Read through
    /// `app.pending_rollup_work()`, which returns counts and times only, never a row's content.
    func pendingWork() async throws -> [(tenant: TenantID, queued: Int, oldest: Date)] {
        // Every cluster's queue; one that cannot answer is counted as a failure and holds up only its own tenants.
        try await database.clusterPools.collect("roll-up queue", logger: logger, failed: { _ in metrics.failures.increment() }) { pool in
            try await pool.query("SELECT tenant_id, queued, oldest FROM app.pending_rollup_work()", logger: logger).map { row in
                let (tenant, queued, oldest) = try row.decode((UUID, Int, Date).self)
                return (TenantID(tenant), queued, oldest)
            }
        }
    }

    /// What one catch-up of one tenant did.
    public struct Outcome: Sendable {
        public var tenant: Tenant
        /// Actors whose learners, courses and enrollments were re-derived from the queue.
        public var derivedActors: Int
        /// Roll-up days recomputed; -1 when nothing was new.
        public var days: Int
    }

    /// One catch-up pass over every tenant (or the given ones).
    @discardableResult
    public func catchUpAll(
        tenants only: [Tenant]? = nil, fullRebuild: Bool = false, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> [Outcome] {
        var tenants = only ?? []
        if only == nil { tenants = try await database.tenants.list(logger: logger) }
        var outcomes: [Outcome] = []
        for (index, tenant) in tenants.enumerated() {
            let (derivedActors, days) = try await catchUp(tenant.id, fullRebuild: fullRebuild)
            if days > 0 || derivedActors > 0 {
                logger.debug("Roll-ups caught up", metadata: [
                    "tenant.id": "\(tenant.id)", "rollup.days": "\(days)", "rollup.derived_actors": "\(derivedActors)",
                ])
            }
            progress("[\(index + 1)/\(tenants.count)] \(tenant.slug): " + (days < 0 ? "up to date" : "\(days) days recomputed"))
            outcomes.append(Outcome(tenant: tenant, derivedActors: derivedActors, days: days))
        }
        return outcomes
    }

    /// The statement timeout of one incremental pass's transactions.
    static let passTimeout: Duration = .seconds(120)

    /// Queue rows one derivation transaction takes: bounds the transaction after a large backlog.
    static let derivationChunk = 5_000

    /// Catches one tenant up: derives the actors ingest queued, then recomputes the roll-up days that
    /// changed. With `fullRebuild`, rebuilds everything derived from the tenant's raw statements instead:
    /// learners, courses, enrollments and every roll-up (after restoring raw data, or to check the
    /// incremental path). Returns how many queued actors were derived, and how many days were recomputed
    /// (-1: nothing new).
    @discardableResult
    public func catchUp(_ tenant: TenantID, fullRebuild: Bool = false) async throws -> (derivedActors: Int, days: Int) {
        let scope = ScopePolicy.maintenance(of: tenant, job: "rollups")
        // A pass of the service is small (new rows, recent days) and bounded at two minutes, so a pass
        // stuck on a lock or a dead connection ends and the next one retries; a full rebuild may take long.
        let timeout: Duration = fullRebuild ? .seconds(1800) : Self.passTimeout
        var derivedActors = 0
        while !fullRebuild {
            let derived = try await database.sessions.run(scope, access: .readWrite, statementTimeout: timeout, logger: logger) { connection in
                try await connection.query("SELECT app.derive_queued_learning_facts(\(Self.derivationChunk)::integer)")
                    .collect().first?.decode(Int.self) ?? 0
            }
            guard derived > 0 else { break }
            derivedActors += derived
        }
        let days = try await database.sessions.run(scope, access: .readWrite, statementTimeout: timeout, logger: logger) { connection in
            if fullRebuild {
                try await connection.query("SELECT app.lock_tenant_derivation()")
                try await connection.query("DELETE FROM app.learning_facts_queue")
                try await connection.query("SELECT app.refresh_learning_facts_fully(NULL)")
            }
            // Derivation keeps the enrollment outcomes current itself (a delta per actor), so days that
            // were already caught up need nothing more here.
            return try await connection.query("SELECT app.catch_up_rollups(\(Self.overlap)::interval, \(fullRebuild))")
                .collect().first?.decode(Int.self) ?? -1
        }
        return (derivedActors, days)
    }
}

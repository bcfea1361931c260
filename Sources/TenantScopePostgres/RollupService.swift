import CoreMetrics
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// Keeps every tenant's derived facts and daily roll-ups current: every `interval` it asks each tenant,
/// inside that tenant's scoped transactions, to derive the actors ingest queued
/// (`app.derive_queued_learning_facts`) and to catch up from its `stored` watermark (`app.catch_up_rollups`).
///
/// Late statements land in their own (old) day and voiding statements name their target's day, so both
/// are recomputed; statements are re-examined for `overlap` behind the watermark, which covers a batch
/// whose transaction committed after a later batch had been seen.
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

    /// One pass of the service: samples the backlog every tenant has (the gauges), then catches them all up.
    func pass() async throws {
        let tenants = try await database.tenants.list(logger: logger)
        var queued = 0
        var lag = 0.0
        for tenant in tenants {
            let backlog = try await backlog(of: tenant.id)
            queued += backlog.queued
            lag = max(lag, backlog.lagSeconds)
        }
        metrics.queueDepth.record(queued)
        metrics.lagSeconds.record(lag)
        try await catchUpAll(tenants: tenants)
        metrics.passes.increment()
    }

    /// One tenant's derivation queue length, and how long its oldest statement past the roll-up watermark
    /// has waited (0 when caught up): two index lookups in the tenant's scope.
    func backlog(of tenant: TenantID) async throws -> (queued: Int, lagSeconds: Double) {
        let scope = ScopePolicy.maintenance(of: tenant, job: "rollups")
        return try await database.sessions.run(scope, logger: logger) { connection in
            let row = try await connection.query("""
                SELECT (SELECT count(*) FROM app.learning_facts_queue)::bigint,
                       coalesce(extract(epoch FROM clock_timestamp() - (
                         SELECT min(s.stored) FROM app.statements s
                         WHERE s.stored > coalesce((SELECT r.stored_through FROM app.rollup_state r), '-infinity'))), 0)::float8
                """).collect().first
            let (queued, lag) = try row?.decode((Int, Double).self) ?? (0, 0)
            return (queued, max(lag, 0))
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
        let derivedAny = derivedActors > 0
        let days = try await database.sessions.run(scope, access: .readWrite, statementTimeout: timeout, logger: logger) { connection in
            if fullRebuild {
                try await connection.query("SELECT app.lock_tenant_derivation()")
                try await connection.query("DELETE FROM app.learning_facts_queue")
                try await connection.query("SELECT app.refresh_learning_facts(NULL)")
            }
            let days = try await connection.query("SELECT app.catch_up_rollups(\(Self.overlap)::interval, \(fullRebuild))")
                .collect().first?.decode(Int.self) ?? -1
            if days < 0 && derivedAny {
                // Enrollments changed without new statements (their batch was seen by an earlier pass):
                // the enrollment-outcome roll-up reads enrollments, so it follows them.
                try await connection.query("SELECT app.refresh_enrollment_outcomes()")
                return 0
            }
            return days
        }
        return (derivedActors, days)
    }
}

import CoreMetrics
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// Keeps every tenant's derived facts and daily roll-ups current: every `interval`, or once this process's ingest has
/// been quiet for `quietPeriod` after queuing work (``RollupWakeup``), it asks which tenants have work queued by
/// ingest, and only those, inside their scoped transactions, derive the queued actors
/// (`app.derive_queued_learning_facts`) and add the queued per-day counts to the roll-ups (`app.catch_up_rollups`).
///
/// The ingest transaction queues how many statements each actor added per day, and voiding how many it
/// took away, so late statements and voiding land in their days; the queue rows commit with their batch,
/// so a batch that committed after a later one was seen is still taken by the next pass (architecture
/// decisions 32 and 54).
public struct RollupService: Service {
    public static let defaultInterval: Duration = .seconds(5)
    /// How many tenants a pass catches up at once by default: one. More pays only where PostgreSQL has cores that
    /// ingest and reports leave idle; on the 2 cores `bench/` runs on, two at once took a sixth to a fifth of
    /// acknowledged ingest and derived at most 8 % sooner (decision 79).
    public static let defaultConcurrency = 1
    /// The most tenants a pass may catch up at once: each holds a connection of the tenant pool for its call.
    public static let maximumConcurrency = 16
    public static let overlap = RollupCoverage.overlap
    /// How long this server's ingest must have stored nothing, after it queued work, for a pass to start before the
    /// interval is up by default (decision 81). Steady ingest (a batch every few milliseconds per client) has no such
    /// pause, so it keeps to the interval; the end of a burst, or a single batch, is derived at once.
    public static let defaultQuietPeriod: Duration = .milliseconds(100)
    /// How many tenants a pass that quiet ingest started catches up at once by default: ingest is idle then, so the
    /// cores it leaves are free for a second catch-up (decision 82).
    public static let defaultQuietConcurrency = 2
    /// How long a catch-up waits for its tenant's derivation lock by default before it gives up (``RollupTenantBusy``)
    /// and the pass goes on without that tenant (decision 86): another derivation of the tenant holds the lock, a pass
    /// of another server for seconds, an erasure or `rollups rebuild` for minutes.
    public static let defaultLockWait: Duration = .seconds(30)

    private let database: Database
    private let interval: Duration
    private let quietPeriod: Duration?
    private let concurrency: Int
    let quietConcurrency: Int
    private let wakeup: RollupWakeup
    private let lockWait: Duration
    private let logger: Logger
    private let metrics: RollupMetrics

    /// `concurrency`: how many tenants a pass catches up at once, from 1 to ``maximumConcurrency``. `quietPeriod`: how
    /// long this process's ingest (`wakeup`) must have been quiet after queuing work for a pass to
    /// start before `interval` is up; nil keeps to the interval. `quietConcurrency`: how many tenants such a pass
    /// catches up at once (1 to ``maximumConcurrency``; never fewer than `concurrency`, which it falls back to once
    /// ingest resumes). `wakeup`: where this process's ingest notes queued work (the database's by default; a test that
    /// shares the database with others gives one of its own). `lockWait`: how long a catch-up waits for its tenant's
    /// derivation lock (``defaultLockWait``).
    public init(database: Database, interval: Duration = Self.defaultInterval, quietPeriod: Duration? = Self.defaultQuietPeriod,
                concurrency: Int = Self.defaultConcurrency, quietConcurrency: Int = Self.defaultQuietConcurrency,
                wakeup: RollupWakeup? = nil, lockWait: Duration = Self.defaultLockWait, logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory) {
        precondition((1...Self.maximumConcurrency).contains(concurrency), "a roll-up concurrency of 1 to \(Self.maximumConcurrency)")
        precondition((1...Self.maximumConcurrency).contains(quietConcurrency), "a quiet roll-up concurrency of 1 to \(Self.maximumConcurrency)")
        self.database = database
        self.interval = interval
        self.quietPeriod = quietPeriod
        self.concurrency = concurrency
        self.quietConcurrency = max(quietConcurrency, concurrency)
        self.wakeup = wakeup ?? database.rollupWakeup
        self.lockWait = lockWait
        self.logger = logger
        self.metrics = RollupMetrics(factory: metrics)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var quiet = false
            while !Task.isCancelled {
                do {
                    _ = try await self.pass(concurrency: quiet ? self.quietConcurrency : self.concurrency, onceIngestResumes: self.concurrency)
                } catch where Task.isCancelled {
                    break  // shutting down
                } catch {
                    self.metrics.failures.increment()
                    self.logger.warning("Roll-up catch-up failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                // A pass takes everything queued before it looked (up to ten derivation chunks per tenant),
                // so waiting builds no backlog; it lets many batches' actors coalesce into one derivation and
                // leaves the cores to ingest meanwhile.
                quiet = await self.waitForNextPass()
            }
        }
    }

    /// Until `interval` has passed, or, sooner, until this process's ingest has queued work and then been quiet for
    /// `quietPeriod` (and at least that long has passed since the last pass). Looks at the in-memory note every
    /// `quietPeriod` while there is none (no query, so a server at rest still costs nothing between passes), and once
    /// there is one sleeps until it is `quietPeriod` old, so the pass starts that long after the last batch. True when
    /// ingest was quiet as the wait ended (at the interval too).
    func waitForNextPass() async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: interval)
        guard let quietPeriod else {
            try? await Task.sleep(until: deadline, clock: clock)
            return false
        }
        let earliest = clock.now.advanced(by: quietPeriod)
        while !Task.isCancelled {
            let now = clock.now
            let quietFrom = wakeup.noted.map { max($0.advanced(by: quietPeriod), earliest) }
            if let quietFrom, now >= quietFrom { return true }
            if now >= deadline { return false }
            try? await Task.sleep(until: min(deadline, quietFrom ?? now.advanced(by: quietPeriod)), clock: clock)
        }
        return false
    }

    /// One pass of the service: asks which tenants have queued work (one query, no tenant transaction),
    /// records the backlog (the gauges), then catches up those tenants only, up to `concurrency` of them at once
    /// (each in its own transaction on its own connection; a tenant is never caught up twice at once, and its
    /// derivation lock keeps another server's pass off it). With nothing new anywhere a pass costs that one query
    /// (architecture decision 32). A tenant whose catch-up fails is logged and counted, and retried on the next
    /// pass; the others are still caught up. `among` limits the pass to some tenants (tests share one database with
    /// other tests' tenants). Returns the tenants caught up.
    @discardableResult
    public func pass(among: Set<TenantID>? = nil) async throws -> Int {
        try await pass(among: among, concurrency: concurrency)
    }

    /// ``pass(among:)`` with `concurrency` tenants at once, and no more than `onceIngestResumes` (when less) after this
    /// process's ingest has queued work again during the pass: a pass that quiet ingest started (decision 82) does not
    /// go on taking the cores of the ingest that follows.
    func pass(among: Set<TenantID>? = nil, concurrency: Int, onceIngestResumes: Int? = nil) async throws -> Int {
        // Before the look: a batch that commits after it notes again and calls for the next pass.
        wakeup.takeNoted()
        let pending = try await pendingWork().filter { among?.contains($0.tenant) ?? true }
        metrics.derivationQueueDepth.record(pending.reduce(0) { $0 + $1.queuedActors })
        metrics.rollupQueueDepth.record(pending.reduce(0) { $0 + $1.queuedDays })
        let now = Date()
        metrics.lagSeconds.record(pending.map { max(now.timeIntervalSince($0.oldest), 0) }.max() ?? 0)
        let caughtUp = await withTaskGroup(of: Bool.self) { group in
            var waiting = pending.map(\.tenant).makeIterator()
            var caughtUp = 0
            var running = 0
            // How many catch-ups may run now: `concurrency`, or `onceIngestResumes` once a batch was noted since the
            // pass began (it cleared the note).
            func allowed() -> Int {
                guard let onceIngestResumes, wakeup.noted != nil else { return concurrency }
                return min(concurrency, onceIngestResumes)
            }
            repeat {
                // A shutdown lets the catch-ups under way finish (each is one call) and starts no more.
                while !Task.isCancelled, running < allowed(), let tenant = waiting.next() {
                    group.addTask { await self.catchUpInPass(tenant) }
                    running += 1
                }
                guard let succeeded = await group.next() else { break }
                running -= 1
                if succeeded { caughtUp += 1 }
            } while true
            return caughtUp
        }
        try Task.checkCancellation()
        metrics.passes.increment()
        return caughtUp
    }

    /// One tenant's catch-up in a pass: whether it succeeded; a failure is logged and counted.
    private func catchUpInPass(_ tenant: TenantID) async -> Bool {
        do {
            try await catchUp(tenant)
            metrics.tenantCatchUps.increment()
            return true
        } catch is RollupTenantBusy {
            // Not a failure: another derivation of the tenant (a rebuild, an erasure, another server's pass) has it.
            logger.info("Roll-up catch-up of a tenant skipped: another derivation holds its lock; retrying on the next pass",
                        metadata: ["tenant.id": "\(tenant)"])
            return false
        } catch {
            if !Task.isCancelled {
                metrics.failures.increment()
                logger.warning("Roll-up catch-up of a tenant failed; retrying on the next pass", metadata: [
                    "tenant.id": "\(tenant)", "error": "\(String(reflecting: error))",
                ])
            }
            return false
        }
    }

    /// What ingest has queued and the service has not yet taken, per tenant: the tenant, how many queue
    /// rows of each queue (actors to derive; per-actor day counts or days to recount), and when the oldest was
    /// queued. Read through `app.pending_rollup_queues()`, which returns counts and times only, never a row's content.
    func pendingWork() async throws -> [(tenant: TenantID, queuedActors: Int, queuedDays: Int, oldest: Date)] {
        // Every cluster's queue; one that cannot answer is counted as a failure and holds up only its own tenants.
        try await database.clusterPools.collect("roll-up queue", logger: logger, failed: { _ in metrics.failures.increment() }) { pool in
            try await pool.query("SELECT tenant_id, queued_actors, queued_days, oldest FROM app.pending_rollup_queues()",
                                 logger: logger).map { row in
                let (tenant, actors, days, oldest) = try row.decode((UUID, Int, Int, Date).self)
                return (TenantID(tenant), actors, days, oldest)
            }
        }
    }

    /// What one catch-up of one tenant did.
    public struct Outcome: Sendable {
        public var tenant: Tenant
        /// Actors whose learners, courses and enrollments were re-derived from the queue.
        public var derivedActors: Int
        /// Roll-up days that changed (counts added or recounted); -1 when nothing was new.
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
            let derivedActors: Int
            let days: Int
            do {
                (derivedActors, days) = try await catchUp(tenant.id, fullRebuild: fullRebuild)
            } catch let error as TenantScopeError where error.kind == .notFound {
                // Deleted since the list was read (its gate finds no row, decision 94): nothing left to catch up.
                progress("[\(index + 1)/\(tenants.count)] \(tenant.slug): deleted meanwhile")
                continue
            }
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

    /// The statement timeout of one chunk of an incremental pass: its derivation and its roll-ups, one call (migration 40),
    /// each of which had two minutes as statements of their own.
    static let passTimeout: Duration = .seconds(240)

    /// Queued actors one derivation transaction takes (plus at most one batch's more, migration 36): bounds the
    /// transaction after a large backlog.
    static let derivationChunk = 5_000

    /// Derivation transactions a pass gives one tenant before it catches its roll-ups up and goes on to the
    /// next tenant, whatever is still queued (the next pass takes it).
    static let derivationChunksPerPass = 10

    /// Catches one tenant up: derives the actors ingest queued, then adds what changed to the roll-ups.
    /// With `fullRebuild`, rebuilds everything derived from the tenant's raw statements instead: learners,
    /// courses, enrollments and every roll-up (after restoring raw data, or to check the incremental path).
    /// Returns how many queued actors were derived, and how many days changed (-1: nothing new).
    @discardableResult
    public func catchUp(_ tenant: TenantID, fullRebuild: Bool = false) async throws -> (derivedActors: Int, days: Int) {
        let scope = ScopePolicy.maintenance(of: tenant, job: "rollups")
        if fullRebuild {
            // A full rebuild may take long; a pass of the service may not (below).
            // Its commit waits for the flush: a rebuild repairs what no queue row describes (a restore,
            // statements written with SQL), so nothing would redo a rebuild a crash lost.
            let days = try await database.sessions.run(scope, access: .readWrite, statementTimeout: .seconds(1800), logger: logger) { connection in
                try await connection.execute("SELECT app.lock_tenant_derivation()")
                try await connection.execute("DELETE FROM app.learning_facts_queue")
                try await connection.execute("SELECT app.refresh_learning_facts_fully(NULL)")
                return try await connection.query("SELECT app.catch_up_rollups(\(Self.overlap)::interval, true)")
                    .collect().first?.decode(Int.self) ?? -1
            }
            return (0, days)
        }
        // Each transaction derives one chunk of the queue. The one that takes what is left (in a usual pass
        // the first and only one), or the last a pass allows, also catches the roll-ups up, so a tenant costs
        // one transaction per pass and a tenant whose queue keeps growing still gets its roll-ups and lets
        // the pass go on to the others. A chunk is one call of `app.catch_up_queued` (migration 40): the missed voids
        // on the first, the derivation, then the roll-ups in a block of their own, so that if they fail (a timeout after
        // a long outage) the derived chunk still commits and the next pass tries the roll-ups again. A pass is small
        // (new rows) and a chunk is bounded at four minutes, so a pass stuck on a lock or a dead connection ends and the
        // next one retries. Rows queued while the pass runs wait for the next one. The call commits without waiting for
        // the WAL flush (decision 54): what it writes can be derived again from the queue rows a lost commit leaves.
        // The call waits at most `lockWait` for the tenant's derivation lock (or any other lock), then gives up with
        // lock_not_available: another derivation of the tenant holds it, and the tenant is left to the next pass
        // (decision 86). A `SET` command: the tenant role may not call set_config.
        let lockTimeout = "SET LOCAL lock_timeout = '\(max(1, Int(lockWait.inSeconds * 1000)))ms'"
        var derivedActors = 0
        for chunk in 1...Self.derivationChunksPerPass {
            let (derived, days, rollupError) = try await Self.busyAsTenantBusy {
                try await database.sessions.run(scope, access: .readWrite, statementTimeout: Self.passTimeout, logger: logger) { connection in
                    try await connection.execute(PostgresQuery(unsafeSQL: lockTimeout))
                    let rows = try await connection.query("""
                        SELECT derived, days, rollup_error
                        FROM app.catch_up_queued(\(Self.derivationChunk)::integer, \(Self.overlap)::interval, \(chunk == 1),
                                                 \(chunk == Self.derivationChunksPerPass))
                        """).collect()
                    // A function with OUT parameters returns one row; none would be a schema that is not ours.
                    guard let row = rows.first else { throw RollupCatchUpFailed(reason: "app.catch_up_queued returned no row") }
                    return try row.decode((Int, Int?, String?).self)
                }
            }
            derivedActors += derived
            if let rollupError { throw RollupCatchUpFailed(reason: rollupError) }
            if let days { return (derivedActors, days) }
        }
        preconditionFailure("the last chunk of a pass always catches the roll-ups up")
    }

    /// `body`, whose `lock_not_available` (55P03: a lock it waited for longer than its `lock_timeout`) is thrown as
    /// ``RollupTenantBusy``.
    private static func busyAsTenantBusy<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" {
            throw RollupTenantBusy()
        }
    }
}

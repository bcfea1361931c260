import Logging
import ServiceLifecycle
import Synchronization
import TenantScopeCore

/// The dedicated clusters the control database's server has open: those the control database named when the
/// server started, and each one added to it since (`tenantscope cluster add`), opened without a restart
/// (architecture decision 60); one removed from it (`tenantscope cluster remove`) is closed at the next look.
///
/// A cluster added later is opened the first time a tenant placed on it is used, or at the next look the running
/// service takes (every ``lookInterval``), whichever comes first; the look is what brings its tenants' roll-ups,
/// exports and platform-report rows in before any request for them. Opening one checks its schema version as
/// start-up does. One that cannot be opened is refused for its tenants as unavailable (503), at once for a look
/// interval after a failed attempt, and tried again after that or at the next look; never served from the pool,
/// where its tenants' rows are not.
///
/// As a `Service` it runs the pools of every cluster it holds, those it started with and those it opens later,
/// until the cluster is closed.
public final class DedicatedClusters: Service, Sendable {
    /// How often the running service asks the control database for clusters added since.
    public static let lookInterval: Duration = .seconds(5)
    /// How long an opening waits for the new cluster's pools to start running; past it, the opening logs a warning
    /// and the cluster's uses wait for a connection as any use does (503 at the acquire timeout).
    static let startTimeout: Duration = .seconds(10)

    /// The control database's server-login pool, which names the clusters (`app.dedicated_clusters()`).
    private let control: DatabasePool
    /// Opens one cluster as the server login, as start-up does (``Database/open(appEndpoint:logger:checkpoints:limits:metrics:replicas:cluster:)``).
    private let open: @Sendable (ClusterName, DatabaseEndpoint) async throws -> Database
    private let logger: Logger
    private let opened: Mutex<[ClusterName: OpenCluster]>
    /// When opening each cluster last failed: its tenants' requests are refused at once until the next look, rather
    /// than each waiting out another connection attempt behind the others.
    private let failedAt = Mutex<[ClusterName: ContinuousClock.Instant]>([:])
    /// The clusters the service is to run the pools of, in the order they were opened.
    private let toRun: AsyncStream<OpenCluster>
    private let toRunContinuation: AsyncStream<OpenCluster>.Continuation
    /// One opening at a time: two requests for a new cluster's tenant must not open it twice.
    private let openings = OpeningQueue()

    init(initial: [ClusterName: Database], control: DatabasePool, logger: Logger,
         open: @escaping @Sendable (ClusterName, DatabaseEndpoint) async throws -> Database) {
        self.control = control
        self.open = open
        self.logger = logger
        let clusters = initial.mapValues(OpenCluster.init)
        self.opened = Mutex(clusters)
        (toRun, toRunContinuation) = AsyncStream.makeStream(of: OpenCluster.self)
        for name in clusters.keys.sorted(by: { $0.rawValue < $1.rawValue }) { toRunContinuation.yield(clusters[name]!) }
    }

    /// An open cluster and the signal that closes it: its pools run until it fires.
    private struct OpenCluster: Sendable {
        let database: Database
        let closed = OnceSignal()
    }

    /// The open clusters, by name.
    public var all: [Database] {
        opened.withLock { opened in opened.keys.sorted { $0.rawValue < $1.rawValue }.map { opened[$0]!.database } }
    }

    public var isEmpty: Bool { opened.withLock { $0.isEmpty } }

    /// The clusters the control database named at the last look that could not be opened (work over every tenant
    /// reports them missing rather than leave them out).
    public var unopened: [ClusterName] {
        let failed = failedAt.withLock { Array($0.keys) }
        let open = opened.withLock { Set($0.keys) }
        return failed.filter { !open.contains($0) }.sorted { $0.rawValue < $1.rawValue }
    }

    /// The cluster `name`: open already, or opened now if the control database names it; nil when it does not.
    /// Throws ``DatabaseUnavailable`` when it is named but cannot be opened.
    public func database(_ name: ClusterName, logger: Logger) async throws -> Database? {
        if let known = opened.withLock({ $0[name] }) { return known.database }
        if let failed = failedAt.withLock({ $0[name] }), failed.duration(to: .now) < Self.lookInterval {
            throw DatabaseUnavailable("the dedicated cluster '\(name)' could not be opened")
        }
        if let failure = try await follow(logger: logger)[name] { throw failure }
        return opened.withLock { $0[name]?.database }
    }

    /// Follows the control database's list: closes every open cluster it no longer names, and opens every one it
    /// names that is not open yet, waiting (boundedly) until its pools run. Returns the clusters that could not be
    /// opened, each with its error; throws only when the control database cannot be asked.
    @discardableResult
    public func follow(logger: Logger) async throws -> [ClusterName: DatabaseUnavailable] {
        try await openings.one { [self] in
            let named = try await control.withConnection(logger: logger) { connection in
                try await Database.dedicatedClusterEndpoints(on: connection, logger: logger)
            }
            closeRemoved(keeping: Set(named.map(\.0)), logger: logger)
            var failures: [ClusterName: DatabaseUnavailable] = [:]
            for (name, endpoint) in named where opened.withLock({ $0[name] == nil }) {
                let database: Database
                do {
                    database = try await open(name, endpoint)
                } catch {
                    logger.warning("A dedicated cluster added since start-up could not be opened",
                                   metadata: ["db.cluster": "\(name)", "error.type": "\(type(of: error))"])
                    failures[name] = DatabaseUnavailable("the dedicated cluster '\(name)' could not be opened")
                    failedAt.withLock { $0[name] = .now }
                    continue
                }
                failedAt.withLock { _ = $0.removeValue(forKey: name) }
                let cluster = OpenCluster(database: database)
                opened.withLock { $0[name] = cluster }
                toRunContinuation.yield(cluster)
                if await Self.started(database, within: Self.startTimeout) {
                    logger.notice("Dedicated cluster opened", metadata: ["db.cluster": "\(name)"])
                } else {
                    // Its uses wait for a connection until their acquire timeout (503) until the pools run.
                    logger.warning("A dedicated cluster was opened but its pools are not running yet", metadata: ["db.cluster": "\(name)"])
                }
            }
            return failures
        }
    }

    /// Closes the open clusters not in `named`: they are no longer used for anything, and their pools stop
    /// (``runPools(of:)``). A use still running on one fails as unavailable. `cluster remove` refuses a cluster that
    /// holds tenants, so none of its tenants' requests can still be routed to it.
    private func closeRemoved(keeping named: Set<ClusterName>, logger: Logger) {
        let removed = opened.withLock { opened in
            let removed = opened.filter { !named.contains($0.key) }
            for name in removed.keys { opened[name] = nil }
            return removed
        }
        failedAt.withLock { failedAt in failedAt = failedAt.filter { named.contains($0.key) } }
        for (name, cluster) in removed {
            cluster.closed.fire()
            logger.notice("Dedicated cluster closed: the control database no longer names it", metadata: ["db.cluster": "\(name)"])
        }
    }

    /// Whether `database`'s pools began running within `timeout` (they run only while ``run()`` does). The loser of
    /// the race is cancelled, and a pool-start wait ends when it is.
    private static func started(_ database: Database, within timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await database.pool.waitUntilRunning()
                await database.tenantPool.waitUntilRunning()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
    }

    /// Runs the pools of every cluster held now and opened later, and looks for added clusters every
    /// ``lookInterval``, until cancelled or shut down gracefully.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { [self] in
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.lookInterval)
                        if Task.isCancelled { break }
                        do {
                            try await self.follow(logger: self.logger)
                        } catch {
                            self.logger.debug("Looking for added or removed dedicated clusters failed", metadata: ["error.type": "\(type(of: error))"])
                        }
                    }
                }
            }
            await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    for await cluster in toRun {
                        group.addTask { await Self.runPools(of: cluster) }
                    }
                } onCancel: {
                    self.toRunContinuation.finish()
                }
            } onGracefulShutdown: {
                self.toRunContinuation.finish()
            }
        }
    }

    /// Runs one cluster's pools until it is closed, or the service is cancelled or shut down gracefully (each pool
    /// runner ends on its own then). Closing throws out of the group, which cancels the pools' runners.
    private static func runPools(of cluster: OpenCluster) async {
        struct Closed: Error {}
        try? await withThrowingDiscardingTaskGroup { group in
            for service in cluster.database.services {
                group.addTask { try? await service.run() }
            }
            group.addTask {
                await cancelWhenGracefulShutdown { await cluster.closed.waitUnlessCancelled() }
                if cluster.closed.hasFired { throw Closed() }
            }
        }
    }
}

import CoreMetrics
import Foundation
import Logging
import PostgresNIO
import Synchronization
import TenantScopeCore

/// One streaming read replica of the primary: the server's two logins' pools on it, its own health, and
/// how far behind the primary it was when ``ReplicaLagMonitor`` last looked.
///
/// A physical replica is a byte copy of the primary, so the same roles, passwords, signed-context key and
/// row-level security policies hold there: a tenant transaction on a replica is the same transaction as
/// on the primary, read only. The pools have health and gauges of their own (`tenantscope_db_replica_*`
/// with a `replica` label): a replica's outage ends only its own uses and never reads as the primary's.
public final class ReadReplica: Sendable {
    public let name: String
    /// The server role's endpoint on the replica (platform reads and the lag probe).
    public let appEndpoint: DatabaseEndpoint
    let appPool: DatabasePool
    let tenantPool: DatabasePool
    let health: DatabaseHealth
    private let lagGauge: Gauge
    private let state = Mutex(Measurement.unknown)
    private let reads = Mutex(Reads())

    /// What reads on this replica showed lately.
    private struct Reads {
        var sitOut: SitOut?
        var lastSuccess: ContinuousClock.Instant?
    }

    /// How long reads skip this replica after one failed here, however well the probes find it: a replica
    /// that answers the lag probe but fails reads (new tenant connections refused, say) costs one failed read
    /// per sit-out instead of one per probe. 5 s after a first failure, doubling while reads keep failing
    /// after each sit-out, at most a minute; a read that succeeds here ends the doubling.
    struct SitOut: Sendable {
        var until: ContinuousClock.Instant
        var length: Duration

        static let first = Duration.seconds(5)
        static let longest = Duration.seconds(60)
    }

    /// The replica as last measured.
    public struct Measurement: Sendable, Equatable {
        /// Seconds behind the primary, nil when unknown (not yet probed, unreachable, not a replica).
        public var lagSeconds: Double?
        public var measuredAt: ContinuousClock.Instant?
        /// Why the replica is not usable, for logs and `/readyz`.
        public var problem: String?

        static let unknown = Measurement(lagSeconds: nil, measuredAt: nil, problem: "not probed yet")
    }

    /// - Parameters:
    ///   - endpoint: host, port, database and TLS of the replica (any user in it is ignored).
    ///   - appPassword, tenantPassword: the passwords of the server's logins, read on the primary.
    init(name: String, endpoint: DatabaseEndpoint, appPassword: String, tenantPassword: String, acquireTimeout: Duration,
         statementTimeout: Duration, logger: Logger, metrics: any MetricsFactory) {
        self.name = name
        let dimensions = [("replica", name)]
        let appEndpoint = endpoint.with(username: Database.appRole, password: appPassword)
        self.appEndpoint = appEndpoint
        let health = DatabaseHealth(logger: logger, metrics: metrics, label: "tenantscope_db_replica_up", dimensions: dimensions)
        self.health = health
        let deadline = statementTimeout + DatabasePool.grace
        self.appPool = DatabasePool(
            client: PostgresClient(configuration: appEndpoint.clientConfiguration(maximumConnections: 4), backgroundLogger: logger),
            acquireTimeout: acquireTimeout, defaultDeadline: deadline, health: health, name: "\(name)-app", logger: logger,
            metrics: metrics, gaugePrefix: "tenantscope_db_replica_pool", gaugeDimensions: dimensions)
        self.tenantPool = DatabasePool(
            client: PostgresClient(
                configuration: endpoint.with(username: Database.tenantLoginRole, password: tenantPassword).clientConfiguration(maximumConnections: 20),
                backgroundLogger: logger),
            acquireTimeout: acquireTimeout, defaultDeadline: deadline, health: health, name: "\(name)-tenant", logger: logger,
            metrics: metrics, gaugePrefix: "tenantscope_db_replica_pool", gaugeDimensions: dimensions)
        self.lagGauge = Gauge(label: "tenantscope_db_replica_lag_seconds", dimensions: dimensions, factory: metrics)
    }

    /// The pool a scope's transaction runs on here.
    func pool(for scope: DataScope) -> DatabasePool {
        switch scope {
        case .tenant: tenantPool
        case .platform: appPool
        }
    }

    public var measurement: Measurement { state.withLock { $0 } }

    func record(lagSeconds: Double) {
        state.withLock { $0 = Measurement(lagSeconds: lagSeconds, measuredAt: .now, problem: nil) }
        lagGauge.record(lagSeconds)
    }

    func record(problem: String) {
        state.withLock { $0 = Measurement(lagSeconds: nil, measuredAt: .now, problem: problem) }
        lagGauge.record(-1)
    }

    /// A read failed here: the replica is skipped for a sit-out (``SitOut``), and after it until a probe finds
    /// it well again.
    func readFailed(_ reason: String, now: ContinuousClock.Instant = .now) {
        record(problem: reason)
        reads.withLock { reads in
            // Reads failing together (one outage seen by several requests) are one failure, not a doubling each.
            if let current = reads.sitOut, now < current.until { return }
            let length = reads.sitOut.map { min($0.length * 2, SitOut.longest) } ?? SitOut.first
            reads.sitOut = SitOut(until: now + length, length: length)
        }
    }

    /// A read succeeded here: a later failure sits out the first length again.
    func readSucceeded(now: ContinuousClock.Instant = .now) {
        reads.withLock { reads in
            reads.sitOut = nil
            reads.lastSuccess = now
        }
    }

    /// Whether reads skip this replica at `now` because one failed here recently.
    public func isSittingOut(now: ContinuousClock.Instant = .now) -> Bool {
        reads.withLock { $0.sitOut.map { now < $0.until } ?? false }
    }

    /// Whether a read succeeded here within `window` before `now` (the tenant login evidently works).
    func hadSuccessfulRead(within window: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        reads.withLock { $0.lastSuccess.map { $0.duration(to: now) <= window } ?? false }
    }

    /// The endpoint of `--replica-url`: only where the replica is; the server logs in with its own roles.
    /// A URL without a user (`postgresql://replica.example.com:5432/tenantscope`) is accepted; one without a
    /// database names the primary's.
    public static func endpoint(url text: String, primary: DatabaseEndpoint) throws(TenantScopeError) -> DatabaseEndpoint {
        guard var components = URLComponents(string: text), components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty
        else {
            throw .invalidInput("a replica URL must look like postgresql://host:5432/database, got '\(text)'")
        }
        if components.user == nil || components.user?.isEmpty == true { components.user = Database.appRole }
        if components.path.isEmpty || components.path == "/" { components.path = "/" + primary.database }
        guard let url = components.string else { throw .invalidInput("a replica URL must look like postgresql://host:5432/database") }
        return try DatabaseEndpoint(url: url)
    }
}

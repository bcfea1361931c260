import CoreMetrics
import Foundation
import Logging

/// Whether the database answered the last use of the pool, and the log line for each change: an outage
/// is logged once when it starts and once when it ends, not once per failed request. The gauge
/// `tenantscope_db_up` (1 up, 0 down) follows the same changes, for alerting.
public actor DatabaseHealth {
    public private(set) var isAvailable = true
    private var since = ContinuousClock.now
    private let logger: Logger
    private let up: Gauge
    private let outageHandlers = OutageHandlers()

    /// `label` and `dimensions` name the gauge: a read replica's health is `tenantscope_db_replica_up`
    /// with its `replica` label, so a replica's outage never reads as the primary's.
    public init(logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory, label: String = "tenantscope_db_up",
                dimensions: [(String, String)] = []) {
        self.logger = logger
        self.up = Gauge(label: label, dimensions: dimensions, factory: metrics)
        up.record(1)
    }

    func succeeded() {
        guard !isAvailable else { return }
        isAvailable = true
        up.record(1)
        logger.notice("Database available again", metadata: ["db.outage": "\(ContinuousClock.now - since)"])
        since = .now
    }

    func failed(_ reason: DatabaseUnavailable) {
        guard isAvailable else { return }
        isAvailable = false
        up.record(0)
        since = .now
        logger.error("Database unavailable", metadata: ["db.reason": "\(reason.reason)"])
        outageHandlers.run()
    }

    /// Runs `handler` when an outage begins: the pools end their uses in flight, whose connections may
    /// never notice that the server went away (seen after PostgreSQL was killed: queries waited for
    /// their whole deadline, the roll-up service's for 30 minutes).
    nonisolated func onOutage(_ handler: @escaping @Sendable () -> Void) {
        outageHandlers.add(handler)
    }
}

private final class OutageHandlers: @unchecked Sendable {
    private let lock = NSLock()
    private var handlers: [@Sendable () -> Void] = []

    func add(_ handler: @escaping @Sendable () -> Void) {
        lock.withLock { handlers.append(handler) }
    }

    func run() {
        for handler in lock.withLock({ handlers }) { handler() }
    }
}

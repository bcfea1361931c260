import CoreMetrics
import Logging

/// Whether the database answered the last use of the pool, and the log line for each change: an outage
/// is logged once when it starts and once when it ends, not once per failed request. The gauge
/// `tenantscope_db_up` (1 up, 0 down) follows the same changes, for alerting.
public actor DatabaseHealth {
    public private(set) var isAvailable = true
    private var since = ContinuousClock.now
    private let logger: Logger
    private let up: Gauge

    public init(logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.logger = logger
        self.up = Gauge(label: "tenantscope_db_up", factory: metrics)
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
    }
}

import Logging

/// Whether the database answered the last use of the pool, and the log line for each change: an outage
/// is logged once when it starts and once when it ends, not once per failed request.
public actor DatabaseHealth {
    public private(set) var isAvailable = true
    private var since = ContinuousClock.now
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    func succeeded() {
        guard !isAvailable else { return }
        isAvailable = true
        logger.notice("Database available again", metadata: ["db.outage": "\(ContinuousClock.now - since)"])
        since = .now
    }

    func failed(_ reason: DatabaseUnavailable) {
        guard isAvailable else { return }
        isAvailable = false
        since = .now
        logger.error("Database unavailable", metadata: ["db.reason": "\(reason.reason)"])
    }
}

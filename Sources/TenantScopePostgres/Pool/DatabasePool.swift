import CoreMetrics
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// The server role's connection pool with bounded waits: every use either gets a connection within
/// `acquireTimeout` and finishes within its deadline, or fails with ``DatabaseUnavailable`` (a 503).
///
/// PostgresNIO's pool waits for a connection as long as it takes, and a query sent to a server that
/// stopped (`SIGSTOP`, a frozen VM, a network partition) waits for TCP to notice. So each use races a
/// timer: without a connection by `acquireTimeout` the lease is cancelled; still running at the use's
/// deadline (its statement timeout plus a grace), the connection is closed, which ends the query, and
/// the pool replaces it. Server-side `statement_timeout` still bounds queries on a live server first.
public struct DatabasePool: Sendable {
    public static let defaultAcquireTimeout: Duration = .seconds(5)
    /// Added to a use's statement timeout before the client gives up on the server itself.
    static let grace: Duration = .seconds(5)

    let client: PostgresClient
    public let acquireTimeout: Duration
    /// The longest a use may take when it sets no statement timeout of its own.
    public let defaultDeadline: Duration
    /// Up or down, as the last use found it; logs each change once.
    public let health: DatabaseHealth
    let gauges: PoolGauges

    public init(client: PostgresClient, acquireTimeout: Duration = defaultAcquireTimeout, defaultDeadline: Duration = .seconds(35),
                health: DatabaseHealth? = nil, logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.client = client
        self.acquireTimeout = acquireTimeout
        self.defaultDeadline = defaultDeadline
        self.health = health ?? DatabaseHealth(logger: logger, metrics: metrics)
        self.gauges = PoolGauges(factory: metrics)
    }

    /// Runs `body` on a pooled connection, within `acquireTimeout` to get one and `deadline` overall.
    public func withConnection<Result: Sendable>(
        deadline: Duration? = nil, logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try Task.checkCancellation()
        let deadline = deadline ?? defaultDeadline
        let lease = Lease(gauges: gauges)
        do {
            // Cancelled (graceful shutdown, a request's end): a query in flight to a server that does not
            // answer would ignore the cancellation, so its connection is closed.
            return try await withTaskCancellationHandler {
                try await withThrowingTaskGroup(of: Result?.self) { group in
                    group.addTask {
                        try await client.withConnection { connection in
                            guard await lease.acquired(connection) else { throw CancellationError() }
                            // Released before the connection goes back to the pool, so the timer can never
                            // close a connection another use already holds.
                            do {
                                let result = try await body(connection)
                                await lease.released()
                                return result
                            } catch {
                                await lease.released()
                                throw error
                            }
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: acquireTimeout)
                        guard await lease.isAcquired else {
                            await lease.abandon()
                            throw DatabaseUnavailable("no database connection within \(acquireTimeout)")
                        }
                        try await Task.sleep(for: deadline - acquireTimeout)
                        if await lease.closeIfStillRunning() {
                            logger.warning("Database use exceeded its deadline; connection closed", metadata: ["db.deadline": "\(deadline)"])
                        }
                        return nil
                    }
                    while let next = try await group.next() {
                        if let result = next {
                            group.cancelAll()
                            await health.succeeded()
                            return result
                        }
                    }
                    throw DatabaseUnavailable("the database use ended without a result")
                }
            } onCancel: {
                Task { _ = await lease.closeIfStillRunning() }
            }
        } catch {
            let classified = DatabaseUnavailable.classify(error, closedByDeadline: await lease.closedByDeadline)
            if let unavailable = classified as? DatabaseUnavailable { await health.failed(unavailable) } else if await lease.isAcquired { await health.succeeded() }
            throw classified
        }
    }

    /// Runs one query and returns all its rows.
    public func query(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        try await withConnection(logger: logger) { connection in
            try await connection.query(query, logger: logger, file: file, line: line).collect()
        }
    }

    /// The pool, for a service group.
    public var service: any Service { client }

    /// Runs the pool until cancelled.
    public func run() async {
        await client.run()
    }
}

/// The state of one use of the pool, shared by the use and its timer; keeps the pool's gauges, so each
/// use counts as a waiter and then as holding a connection exactly once, whichever way it ends.
private actor Lease {
    private(set) var isAcquired = false
    private var connection: PostgresConnection?
    private var abandoned = false
    private var finished = false
    private(set) var closedByDeadline = false
    private let gauges: PoolGauges
    private var isWaiting = false
    private var isHolding = false

    init(gauges: PoolGauges) {
        self.gauges = gauges
    }

    func waiting() {
        isWaiting = true
        gauges.waiting.increment()
    }

    /// Records the connection; false when the timer already gave up (the body must not start).
    func acquired(_ connection: PostgresConnection) -> Bool {
        stopWaiting()
        guard !abandoned else { return false }
        isAcquired = true
        isHolding = true
        gauges.inUse.increment()
        self.connection = connection
        return true
    }

    func released() {
        finished = true
        connection = nil
        if isHolding {
            isHolding = false
            gauges.inUse.decrement()
        }
    }

    /// The pool's part of the use is over, with or without a connection.
    func ended() {
        stopWaiting()
        released()
    }

    private func stopWaiting() {
        guard isWaiting else { return }
        isWaiting = false
        gauges.waiting.decrement()
    }

    func abandon() {
        abandoned = true
    }

    /// Closes the connection of a use that is still running; true when it did.
    func closeIfStillRunning() async -> Bool {
        guard !finished, let connection else { return false }
        closedByDeadline = true
        try? await connection.close()
        return true
    }
}

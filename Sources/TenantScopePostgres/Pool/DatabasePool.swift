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
    /// The uses holding or waiting for a connection, ended together when an outage begins.
    private let inFlight = InFlightUses()
    /// What runs the client: its shutdown bounded (``PoolRunner``).
    private let runner: PoolRunner

    public init(client: PostgresClient, acquireTimeout: Duration = defaultAcquireTimeout, defaultDeadline: Duration = .seconds(35),
                health: DatabaseHealth? = nil, name: String = "pool", logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory,
                gaugePrefix: String = "tenantscope_db_pool", gaugeDimensions: [(String, String)] = []) {
        self.client = client
        self.runner = PoolRunner(client: client, name: name, logger: logger)
        self.acquireTimeout = acquireTimeout
        self.defaultDeadline = defaultDeadline
        self.health = health ?? DatabaseHealth(logger: logger, metrics: metrics)
        self.gauges = PoolGauges(factory: metrics, prefix: gaugePrefix, dimensions: gaugeDimensions)
        let inFlight = self.inFlight
        self.health.onOutage { inFlight.closeAll() }
    }

    /// Runs `body` on a pooled connection, within `acquireTimeout` to get one and `deadline` overall.
    ///
    /// The caller is answered by whichever comes first — the use's own result, the acquire timeout, or its
    /// own cancellation — and never waits for the rest: a lease request PostgresNIO holds while it
    /// reconnects (with its own backoff, tens of seconds) is left to finish in the background, and when it
    /// does, the abandoned use hands the connection straight back.
    public func withConnection<Result: Sendable>(
        deadline: Duration? = nil, logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try Task.checkCancellation()
        let deadline = deadline ?? defaultDeadline
        let lease = Lease(gauges: gauges)
        await lease.waiting()
        inFlight.insert(lease)
        let outcome = Outcome<Result>()
        do {
            let result = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                    outcome.begin(continuation)
                    let work = Task {
                        do {
                            let result = try await client.withConnection { connection in
                                // A connection the server closed may never fail the query it was running (seen when a
                                // replica was stopped under load: a read waited out its whole deadline). Its close
                                // answers the caller, whatever the query does.
                                let closed: @Sendable () -> Void = {
                                    outcome.finish(.failure(DatabaseUnavailable("the database closed the connection during the use")))
                                }
                                guard await lease.acquired(connection, onClose: closed) else { throw CancellationError() }
                                inFlight.watchClose(of: connection)
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
                            outcome.finish(.success(result))
                        } catch {
                            outcome.finish(.failure(error))
                        }
                        await lease.ended()
                        inFlight.remove(lease)
                    }
                    outcome.setTimer(Task {
                        try await Task.sleep(for: acquireTimeout)
                        guard await lease.isAcquired else {
                            await lease.abandon()
                            outcome.finish(.failure(DatabaseUnavailable("no database connection within \(acquireTimeout)")))
                            work.cancel()
                            return
                        }
                        try await Task.sleep(for: deadline - acquireTimeout)
                        guard await lease.isStillRunning else { return }
                        // The caller is answered first: closing a connection to a server that does not
                        // answer can itself take a while.
                        outcome.finish(.failure(DatabaseUnavailable("the database did not answer within the deadline")))
                        if await lease.closeIfStillRunning() {
                            logger.warning("Database use exceeded its deadline; connection closed", metadata: ["db.deadline": "\(deadline)"])
                        }
                    })
                }
            } onCancel: {
                // Cancelled (graceful shutdown, a request's end): a query in flight to a server that does not
                // answer would ignore the cancellation, so its connection is closed, and the caller goes.
                Task {
                    await lease.abandon()
                    outcome.finish(.failure(CancellationError()))
                    _ = await lease.closeIfStillRunning()
                }
            }
            await health.succeeded()
            return result
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
    public var service: any Service { runner }

    /// Runs the pool until cancelled.
    public func run() async {
        await runner.run()
    }

    /// Returns once ``run()`` has started the client (``PoolRunner/waitUntilRunning()``).
    func waitUntilRunning() async {
        await runner.waitUntilRunning()
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
    private var onClose: (@Sendable () -> Void)?
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

    /// Records the connection; false when the timer already gave up (the body must not start). `onClose`
    /// answers the caller should the connection close while the use still holds it.
    func acquired(_ connection: PostgresConnection, onClose: @escaping @Sendable () -> Void) -> Bool {
        stopWaiting()
        guard !abandoned else { return false }
        isAcquired = true
        isHolding = true
        gauges.inUse.increment()
        self.connection = connection
        self.onClose = onClose
        return true
    }

    /// `connection` closed: if this use still runs on it, its caller is answered now.
    func connectionClosed(_ connection: PostgresConnection) {
        guard !finished, self.connection === connection else { return }
        onClose?()
    }

    func released() {
        finished = true
        connection = nil
        onClose = nil
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

    /// The caller gave up (acquire timeout, cancellation): no longer a waiter, and a connection that
    /// arrives later goes straight back to the pool.
    func abandon() {
        abandoned = true
        stopWaiting()
    }

    /// Whether the use holds a connection and has not finished with it.
    var isStillRunning: Bool { !finished && connection != nil }

    /// Closes the connection of a use that is still running; true when it did.
    func closeIfStillRunning() async -> Bool {
        guard !finished, let connection else { return false }
        closedByDeadline = true
        try? await connection.close()
        return true
    }
}

/// The one answer of a use: the first of its result, its acquire timeout or its cancellation resumes the
/// caller; later ones are dropped. Ends the use's timer with it.
private final class Outcome<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, any Error>?
    private var timer: Task<Void, any Error>?
    private var done = false
    /// An answer that came before the caller began waiting (a cancellation that raced the start).
    private var early: Swift.Result<Value, any Error>?

    func begin(_ continuation: CheckedContinuation<Value, any Error>) {
        let early = lock.withLock { () -> Swift.Result<Value, any Error>? in
            if self.early == nil { self.continuation = continuation }
            return self.early
        }
        if let early { continuation.resume(with: early) }
    }

    func setTimer(_ timer: Task<Void, any Error>) {
        let finished = lock.withLock {
            if !done { self.timer = timer }
            return done
        }
        if finished { timer.cancel() }
    }

    func finish(_ result: Swift.Result<Value, any Error>) {
        let (continuation, timer) = lock.withLock { () -> (CheckedContinuation<Value, any Error>?, Task<Void, any Error>?) in
            guard !done else { return (nil, nil) }
            done = true
            if self.continuation == nil { early = result }
            defer { self.continuation = nil; self.timer = nil }
            return (self.continuation, self.timer)
        }
        timer?.cancel()
        continuation?.resume(with: result)
    }
}

/// The leases of one pool's uses in flight, and the connections whose close they watch.
private final class InFlightUses: @unchecked Sendable {
    private let lock = NSLock()
    private var leases: [ObjectIdentifier: Lease] = [:]
    /// Connections with a close callback already: one per connection, not one per use, so a connection that
    /// serves a million uses holds one callback, not a million.
    private var watched: Set<ObjectIdentifier> = []

    /// Tells the uses on `connection` when it closes, once per connection.
    func watchClose(of connection: PostgresConnection) {
        let id = ObjectIdentifier(connection)
        guard lock.withLock({ watched.insert(id).inserted }) else { return }
        connection.closeFuture.whenComplete { [self, weak connection] _ in
            // Forgotten before the connection can be freed, so a new one at the same address is watched again.
            let current = lock.withLock { () -> [Lease] in
                watched.remove(id)
                return Array(leases.values)
            }
            guard let connection else { return }
            for lease in current {
                Task { await lease.connectionClosed(connection) }
            }
        }
    }

    func insert(_ lease: Lease) {
        lock.withLock { leases[ObjectIdentifier(lease)] = lease }
    }

    func remove(_ lease: Lease) {
        lock.withLock { leases[ObjectIdentifier(lease)] = nil }
    }

    /// Closes the connection of every use still running on one; each then fails as unavailable.
    func closeAll() {
        for lease in lock.withLock({ Array(leases.values) }) {
            Task { _ = await lease.closeIfStillRunning() }
        }
    }
}

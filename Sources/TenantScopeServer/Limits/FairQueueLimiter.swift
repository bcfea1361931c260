import HTTPTypes
import Hummingbird
import Synchronization
import TenantScopeCore

/// At most `limit` executions per key at a time; more wait their turn in that key's own first-in-first-out
/// queue for at most `maximumWait`, then get 429 with `Retry-After`.
///
/// A seed document names the danger: "a single heavy customer can starve others". Every tenant's requests
/// share one database pool, so one tenant flooding reports could hold all of its connections while another
/// tenant's dashboard waits behind them. Keyed by tenant, a flooding tenant holds at most its limit of
/// connections for report work and queues behind itself; the others are not in its queue at all. Keyed by
/// tier, it is the tier's connection budget: the tenants of one tier together hold at most that many
/// (architecture decisions 46 and 47). The limits are per server process.
public final class FairQueueLimiter<Key: Hashable & Sendable>: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Executions of one key at once, unless a call names its own limit.
        public var perKey: Int
        /// How long a request waits for its key's turn before 429.
        public var maximumWait: Duration
        /// Requests of one key that may wait at once; more get 429 at once.
        public var maximumQueued: Int

        public init(perKey: Int = 8, maximumWait: Duration = .seconds(10), maximumQueued: Int = 256) {
            self.perKey = perKey
            self.maximumWait = maximumWait
            self.maximumQueued = maximumQueued
        }
    }

    /// The key's turn did not come within the wait (or its queue is full): 429 with `Retry-After`.
    public struct Busy: HTTPResponseError, CustomStringConvertible {
        public let retryAfterSeconds: Int
        /// Whose requests are too many: "this tenant", "this tenant's tier".
        public var subject = "this tenant"
        public var status: HTTPResponse.Status { .tooManyRequests }
        public var description: String { "too many concurrent requests for \(subject); retry after \(retryAfterSeconds) s" }

        public func response(from request: Request, context: some RequestContext) throws -> Response {
            var headers = HTTPFields()
            headers[.retryAfter] = "\(retryAfterSeconds)"
            return try ErrorBody(error: description, status: .tooManyRequests).response(headers: headers)
        }
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Queue {
        var running = 0
        var waiters: [Waiter] = []
    }

    private enum Outcome { case admitted, queued, refused, cancelled }

    private struct State {
        var queues: [Key: Queue] = [:]
        var nextID: UInt64 = 0
    }

    public let limits: Limits
    /// Named in a refusal's message.
    let subject: String
    private let state = Mutex(State())

    public init(limits: Limits, subject: String = "this tenant") {
        self.limits = limits
        self.subject = subject
    }

    /// Runs `body` in one of the key's slots (`limit`, or `limits.perKey`), waiting for one in turn.
    public func run<Value>(for key: Key, limit: Int? = nil, _ body: () async throws -> Value) async throws -> Value {
        try await acquire(key, limit: limit ?? limits.perKey)
        defer { release(key) }
        return try await body()
    }

    /// How many of the key's executions run and wait now (tests and metrics).
    public func load(of key: Key) -> (running: Int, waiting: Int) {
        state.withLock { state in (state.queues[key]?.running ?? 0, state.queues[key]?.waiters.count ?? 0) }
    }

    private var busy: Busy {
        Busy(retryAfterSeconds: max(1, Int(limits.maximumWait.components.seconds)), subject: subject)
    }

    func acquire(_ key: Key, limit: Int) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Outcome = state.withLock { state in
                    // Cancelled before it could queue: the cancellation handler, which takes this lock too, found
                    // nothing to withdraw, so the request must not wait.
                    if Task.isCancelled { return .cancelled }
                    var queue = state.queues[key, default: Queue()]
                    defer { state.queues[key] = queue.running == 0 && queue.waiters.isEmpty ? nil : queue }
                    if queue.running < limit && queue.waiters.isEmpty {
                        queue.running += 1
                        return .admitted
                    }
                    guard queue.waiters.count < limits.maximumQueued else { return .refused }
                    queue.waiters.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch outcome {
                case .admitted: continuation.resume()
                case .refused: continuation.resume(throwing: busy)
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .queued:
                    let wait = limits.maximumWait
                    Task { [weak self] in
                        try? await Task.sleep(for: wait)
                        self?.withdraw(id, of: key, with: self?.busy ?? Busy(retryAfterSeconds: 1))
                    }
                }
            }
        } onCancel: {
            withdraw(id, of: key, with: CancellationError())
        }
    }

    /// Takes a waiter out of its queue, if it still waits, and fails it with `error`.
    private func withdraw(_ id: UInt64, of key: Key, with error: any Error) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.queues[key]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = state.queues[key]?.waiters.remove(at: index)
            if state.queues[key]?.running == 0 && state.queues[key]?.waiters.isEmpty == true { state.queues[key] = nil }
            return waiter
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Hands the slot to the key's next waiter, or frees it.
    func release(_ key: Key) {
        let next: Waiter? = state.withLock { state in
            guard var queue = state.queues[key] else { return nil }
            defer { state.queues[key] = queue.running == 0 && queue.waiters.isEmpty ? nil : queue }
            if queue.waiters.isEmpty {
                queue.running -= 1
                return nil
            }
            return queue.waiters.removeFirst()  // the slot passes on: `running` stays
        }
        next?.continuation.resume()
    }
}

/// One tenant's report, SQL, MCP and dashboard slots.
public typealias TenantConcurrencyLimiter = FairQueueLimiter<TenantID>

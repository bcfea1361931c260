import HTTPTypes
import Hummingbird
import Synchronization
import TenantScopeCore

/// At most `perTenant` report, SQL and dashboard executions of one tenant at a time; more wait their turn in
/// that tenant's own first-in-first-out queue for at most `maximumWait`, then get 429 with `Retry-After`.
///
/// A seed document names the danger: "a single heavy customer can starve others". Every tenant's requests
/// share one database pool, so one tenant flooding reports could hold all of its connections while another
/// tenant's dashboard waits behind them. With the limit, a flooding tenant holds at most `perTenant`
/// connections for report work and queues behind itself; the others are not in its queue at all. The
/// limit is per server process (several processes each allow `perTenant`).
public final class TenantConcurrencyLimiter: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Executions of one tenant at once.
        public var perTenant: Int
        /// How long a request waits for its tenant's turn before 429.
        public var maximumWait: Duration
        /// Requests of one tenant that may wait at once; more get 429 at once.
        public var maximumQueued: Int

        public init(perTenant: Int = 8, maximumWait: Duration = .seconds(10), maximumQueued: Int = 256) {
            self.perTenant = perTenant
            self.maximumWait = maximumWait
            self.maximumQueued = maximumQueued
        }
    }

    /// The tenant's turn did not come within the wait (or its queue is full): 429 with `Retry-After`.
    public struct Busy: HTTPResponseError, CustomStringConvertible {
        public let retryAfterSeconds: Int
        public var status: HTTPResponse.Status { .tooManyRequests }
        public var description: String { "too many concurrent requests for this tenant; retry after \(retryAfterSeconds) s" }

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

    private struct State {
        var tenants: [TenantID: Queue] = [:]
        var nextID: UInt64 = 0
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits) {
        self.limits = limits
    }

    /// Runs `body` in one of the tenant's `perTenant` slots, waiting for one in turn.
    public func run<Value>(for tenant: TenantID, _ body: () async throws -> Value) async throws -> Value {
        try await acquire(tenant)
        defer { release(tenant) }
        return try await body()
    }

    /// How many of the tenant's executions run and wait now (tests and metrics).
    public func load(of tenant: TenantID) -> (running: Int, waiting: Int) {
        state.withLock { state in (state.tenants[tenant]?.running ?? 0, state.tenants[tenant]?.waiters.count ?? 0) }
    }

    private var busy: Busy {
        Busy(retryAfterSeconds: max(1, Int(limits.maximumWait.components.seconds)))
    }

    func acquire(_ tenant: TenantID) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case admitted, queued, refused, cancelled }
                let outcome: Outcome = state.withLock { state in
                    // Cancelled before it could queue: the cancellation handler, which takes this lock too, found
                    // nothing to withdraw, so the request must not wait.
                    if Task.isCancelled { return .cancelled }
                    var queue = state.tenants[tenant, default: Queue()]
                    defer { state.tenants[tenant] = queue.running == 0 && queue.waiters.isEmpty ? nil : queue }
                    if queue.running < limits.perTenant && queue.waiters.isEmpty {
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
                        self?.withdraw(id, of: tenant, with: self?.busy ?? Busy(retryAfterSeconds: 1))
                    }
                }
            }
        } onCancel: {
            withdraw(id, of: tenant, with: CancellationError())
        }
    }

    /// Takes a waiter out of its queue, if it still waits, and fails it with `error`.
    private func withdraw(_ id: UInt64, of tenant: TenantID, with error: any Error) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.tenants[tenant]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = state.tenants[tenant]?.waiters.remove(at: index)
            if state.tenants[tenant]?.running == 0 && state.tenants[tenant]?.waiters.isEmpty == true { state.tenants[tenant] = nil }
            return waiter
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Hands the slot to the tenant's next waiter, or frees it.
    func release(_ tenant: TenantID) {
        let next: Waiter? = state.withLock { state in
            guard var queue = state.tenants[tenant] else { return nil }
            defer { state.tenants[tenant] = queue.running == 0 && queue.waiters.isEmpty ? nil : queue }
            if queue.waiters.isEmpty {
                queue.running -= 1
                return nil
            }
            return queue.waiters.removeFirst()  // the slot passes on: `running` stays
        }
        next?.continuation.resume()
    }
}

/// Runs the handlers of a tenant route group inside the tenant's slot of ``TenantConcurrencyLimiter``.
struct TenantConcurrencyMiddleware: RouterMiddleware {
    typealias Context = TenantRequestContext
    let limiter: TenantConcurrencyLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await limiter.run(for: context.scope.tenant) { try await next(request, context) }
    }
}

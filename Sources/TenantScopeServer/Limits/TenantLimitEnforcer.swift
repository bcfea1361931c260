import Logging
import TenantScopeCore
import TenantScopePostgres

/// Everything that keeps one tenant from starving the others in this process (architecture decisions 46 and
/// 47): each tenant's limits from its tier and overrides, its request-rate buckets, its own queue of report
/// work, and its tier's connection budget.
public final class TenantLimitEnforcer: Sendable {
    /// How the queues wait and how often the limits are reloaded.
    public struct Settings: Sendable, Hashable {
        /// How long a request waits for its tenant's turn, and again for its tier's, before 429.
        public var maximumWait: Duration
        /// Requests of one tenant (or tier) that may wait at once; more get 429 at once.
        public var maximumQueued: Int
        /// How long a request over its tenant's rate waits for its tokens: within it the request is paced to
        /// the rate; beyond it, it is refused with 429 when this wait is over, not at once (decision 51).
        /// Zero refuses at once.
        public var rateWait: Duration
        /// How often every tenant's limits are reloaded from the database.
        public var refreshInterval: Duration

        public init(maximumWait: Duration = .seconds(10), maximumQueued: Int = 256, rateWait: Duration = defaultRateWait,
                    refreshInterval: Duration = TenantLimitsCache.defaultRefreshInterval) {
            self.maximumWait = maximumWait
            self.maximumQueued = maximumQueued
            self.rateWait = rateWait
            self.refreshInterval = refreshInterval
        }

        /// Two seconds: an interactive page waits that long for a paced answer, and a client flooding at once
        /// on N connections is answered at most N/2 times a second.
        public static let defaultRateWait: Duration = .seconds(2)
    }

    public let limits: TenantLimitsCache
    let rates = TenantRateLimiter()
    /// ``Settings/rateWait`` in seconds.
    let rateWait: Double
    let tenants: FairQueueLimiter<TenantID>
    let tiers: FairQueueLimiter<String>

    public init(store: TenantLimitStore, settings: Settings = Settings(), logger: Logger) {
        self.limits = TenantLimitsCache(store: store, refreshInterval: settings.refreshInterval, logger: logger)
        self.rateWait = settings.rateWait.inSeconds
        let queue = FairQueueLimiter<TenantID>.Limits(maximumWait: settings.maximumWait, maximumQueued: settings.maximumQueued)
        self.tenants = FairQueueLimiter(limits: queue, subject: "this tenant")
        self.tiers = FairQueueLimiter(limits: .init(maximumWait: settings.maximumWait, maximumQueued: settings.maximumQueued),
                                      subject: "this tenant's tier")
    }

    /// Charges the items of an LRS batch beyond the first (the request itself paid one unit in
    /// ``TenantLimitMiddleware``): a batch of 100 statements costs 100 units of the tenant's LRS rate. Throws
    /// ``RateLimited`` before anything is stored when the tenant's bucket does not hold them, or will not
    /// within the rate wait. The bucket as the charge left it goes to `note`, for the answer's `RateLimit` field.
    /// The limits are those the middleware applied to the request (`note`), looked up only without it.
    func chargeBatch(of tenant: TenantID, items: Int, note: RateLimitNote, logger: Logger) async throws {
        let resolved = if let applied = note.limits { applied } else { await limits.limits(for: tenant, logger: logger) }
        guard items > 1, let policy = resolved.ingest else { return }
        try await charge(tenant, on: .ingest, policy: policy, units: items - 1, tier: resolved.tier, note: note, logger: logger)
    }

    /// Takes `units` from the tenant's bucket for `surface`, waiting for them when they come within the rate
    /// wait. A refusal also waits the rate wait out before it throws ``RateLimited`` (429 with `Retry-After`):
    /// a client that retries every 429 at once would otherwise make refusals the load, and take the CPU the
    /// other tenants' requests need (decision 51). The bucket as the charge left it goes to `note`.
    func charge(_ tenant: TenantID, on surface: TenantLimits.Surface, policy: RatePolicy, units: Int = 1, tier: String,
                note: RateLimitNote, logger: Logger) async throws {
        try await Self.charge(tenant, on: surface, policy: policy, units: units, tier: tier, rates: rates, rateWait: rateWait,
                              note: note, logger: logger)
    }

    /// ``charge(_:on:policy:units:tier:note:logger:)`` on given buckets and wait (the enforcer's own, or a test's).
    static func charge(_ tenant: TenantID, on surface: TenantLimits.Surface, policy: RatePolicy, units: Int, tier: String,
                       rates: TenantRateLimiter, rateWait: Double, note: RateLimitNote, logger: Logger) async throws {
        let decision = rates.take(tenant, on: surface, policy: policy, count: units, maximumWait: rateWait)
        let fields = RateLimitFields.fields(surface, policy: policy, decision: decision)
        note.record(fields)
        if decision.wait > 0 {
            do {
                try await Task.sleep(for: .seconds(decision.wait))
            } catch {
                // Cancelled while it waited (the client went away): a request that will not run gives its
                // reserved units back instead of spending the tenant's rate.
                if decision.allowed { rates.giveBack(tenant, on: surface, count: units) }
                throw error
            }
        }
        guard decision.allowed else {
            logger.info("Tenant request rate used up",
                        metadata: ["limit.surface": "\(surface.rawValue)", "limit.tier": "\(tier)", "limit.units": "\(units)"])
            throw RateLimited(surface: surface, fields: fields, retryAfterSeconds: WholeSeconds.roundedUp(decision.retryAfter))
        }
    }

    /// Runs `body` under `tenant`'s limits for `work`: a unit of the surface's rate, and for report work a slot in the
    /// tenant's queue and its tier's budget. What ``TenantLimitMiddleware`` does for a tenant route group, for a route
    /// that learns its tenant only in its handler (a shared link). The limits applied and the bucket go to `note`.
    func limited<Value>(_ tenant: TenantID, work: TenantLimitMiddleware.Work, note: RateLimitNote, logger: Logger,
                        _ body: () async throws -> Value) async throws -> Value {
        let limits = await self.limits.limits(for: tenant, logger: logger)
        note.limits = limits
        if let policy = limits.rate(for: work.surface) {
            try await charge(tenant, on: work.surface, policy: policy, tier: limits.tier, note: note, logger: logger)
        }
        return work == .queries ? try await runQueued(tenant, limits: limits, body) : try await body()
    }

    /// Runs report work in one of the tenant's slots and then one of its tier's, each when the limits name one.
    func runQueued<Value>(_ tenant: TenantID, limits: TenantLimits, _ body: () async throws -> Value) async throws -> Value {
        switch (limits.concurrency, limits.connectionBudget) {
        case (nil, nil):
            return try await body()
        case (let concurrency?, nil):
            return try await tenants.run(for: tenant, limit: concurrency, body)
        case (nil, let budget?):
            return try await tiers.run(for: limits.tier, limit: budget, body)
        case (let concurrency?, let budget?):
            // The tenant's slot first: a tenant holds at most `concurrency` places in its tier's queue.
            return try await tenants.run(for: tenant, limit: concurrency) {
                try await tiers.run(for: limits.tier, limit: budget, body)
            }
        }
    }
}

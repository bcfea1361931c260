import Foundation
import Logging
import Testing
import TenantScopeCore
@testable import TenantScopeServer

/// The per-tenant buckets: each tenant draws on its own, and the memory of many tenants is bounded by
/// forgetting full buckets, at most once per sweep interval.
@Suite struct TenantRateLimiterTests {
    @Test func aTenantThatSpentItsRateLeavesAnotherUntouched() {
        let limiter = TenantRateLimiter()
        let policy = RatePolicy(perSecond: 0.001, burst: 2)
        let (a, b) = (TenantID(UUID()), TenantID(UUID()))
        #expect(limiter.take(a, on: .api, policy: policy).allowed)
        #expect(limiter.take(a, on: .api, policy: policy).allowed)
        #expect(!limiter.take(a, on: .api, policy: policy).allowed)
        #expect(limiter.take(b, on: .api, policy: policy).allowed)
        #expect(limiter.take(a, on: .ingest, policy: policy).allowed, "the ingest bucket is another bucket")
    }

    /// A request cancelled while it waits for its tokens (its client went away) gives them back through the
    /// enforcer's charge, so the tenant's next request is not paced behind one that never ran.
    ///
    /// A token takes 25 s to refill, so however late the waiting task runs on a loaded machine it is still
    /// waiting when it is cancelled (with a token every 2 s, a task that first ran two seconds late found its
    /// token there and never waited).
    @Test func aChargeCancelledWhileItWaitsGivesItsUnitsBack() async throws {
        let limiter = TenantRateLimiter()
        let policy = RatePolicy(perSecond: 0.04, burst: 1)
        let tenant = TenantID(UUID())
        #expect(limiter.take(tenant, on: .api, policy: policy).allowed)
        let waiting = Task {
            try await TenantLimitEnforcer.charge(tenant, on: .api, policy: policy, units: 1, tier: "test", rates: limiter,
                                                 rateWait: 30, note: RateLimitNote(), logger: Logger(label: "test"))
        }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        // Without the give-back this take would queue behind the cancelled reservation: a wait of nearly 50 s,
        // over the 30 s it may wait, instead of at most 25.
        let next = limiter.take(tenant, on: .api, policy: policy, maximumWait: 30)
        #expect(next.allowed && next.wait <= 25)
    }

    /// The slowest rate the database accepts (any positive number) with the largest burst makes waits and windows
    /// longer than an `Int` holds: the refusal's fields hold them at `Int.max` instead of trapping, which killed the
    /// server at that tenant's first request.
    @Test func aRateAsSlowAsTheDatabaseAllowsIsRefusedNotACrash() async throws {
        let limiter = TenantRateLimiter()
        let policy = RatePolicy(perSecond: 1e-15, burst: 1_000_000)
        #expect(policy.windowSeconds == Int.max)
        let tenant = TenantID(UUID())
        #expect(limiter.take(tenant, on: .api, policy: policy, count: 1_000_000).allowed)
        let note = RateLimitNote()
        let refusal = await #expect(throws: RateLimited.self) {
            try await TenantLimitEnforcer.charge(tenant, on: .api, policy: policy, units: 1, tier: "test", rates: limiter,
                                                 rateWait: 0, note: note, logger: Logger(label: "test"))
        }
        #expect(refusal?.retryAfterSeconds == 1_000_000_000_000_000, "one request's token: 1e15 s")
        #expect(refusal?.fields[RateLimitFields.policyName] == "\"api\";q=1000000;w=\(Int.max)")
        #expect(refusal?.fields[RateLimitFields.stateName] == "\"api\";r=0;t=\(Int.max)", "a full bucket: 1e21 s")
    }

    @Test func fullBucketsAreForgottenAtMostOncePerInterval() {
        // A rate so high that every bucket is full again at once: all of them may be forgotten.
        let limiter = TenantRateLimiter(sweepAbove: 2, sweepInterval: 3600)
        let policy = RatePolicy(perSecond: 1e12, burst: 1)
        for _ in 0..<3 { _ = limiter.take(TenantID(UUID()), on: .api, policy: policy) }
        #expect(limiter.count == 3)
        // Above the threshold: the next take sweeps the three full buckets away.
        _ = limiter.take(TenantID(UUID()), on: .api, policy: policy)
        #expect(limiter.count == 1)
        // Above it again within the interval: no second sweep, the buckets are kept.
        for _ in 0..<4 { _ = limiter.take(TenantID(UUID()), on: .api, policy: policy) }
        #expect(limiter.count == 5)
    }
}

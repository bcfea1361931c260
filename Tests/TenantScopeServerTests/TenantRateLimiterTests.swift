import Foundation
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

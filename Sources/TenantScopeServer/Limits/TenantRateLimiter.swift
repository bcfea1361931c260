import Synchronization
import TenantScopeCore

/// One token bucket per tenant and surface (API, LRS): a tenant's requests draw only on its own buckets, so
/// a tenant that spends its rate leaves every other tenant's untouched. Per server process.
public final class TenantRateLimiter: Sendable {
    private struct Key: Hashable {
        let tenant: TenantID
        let surface: TenantLimits.Surface
    }

    private let buckets = Mutex<[Key: TokenBucket]>([:])
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    /// Past this many buckets, the full ones are forgotten (a full bucket made anew answers the same).
    private let sweepAbove: Int

    public init(sweepAbove: Int = 10_000) {
        self.origin = clock.now
        self.sweepAbove = sweepAbove
    }

    /// Takes `count` units from the tenant's bucket for `surface`, shaped by `policy`.
    public func take(_ tenant: TenantID, on surface: TenantLimits.Surface, policy: RatePolicy, count: Int = 1) -> TokenBucket.Decision {
        let now = seconds(since: origin)
        return buckets.withLock { buckets in
            if buckets.count > sweepAbove {
                buckets = buckets.filter { !$0.value.isFull(at: now) }
            }
            let key = Key(tenant: tenant, surface: surface)
            var bucket = buckets[key] ?? TokenBucket(policy: policy, now: now)
            bucket.adopt(policy, at: now)
            let decision = bucket.take(count, at: now)
            buckets[key] = bucket
            return decision
        }
    }

    private func seconds(since origin: ContinuousClock.Instant) -> Double {
        let elapsed = origin.duration(to: clock.now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }
}

import Synchronization
import TenantScopeCore

/// One token bucket per tenant and surface (API, LRS): a tenant's requests draw only on its own buckets, so
/// a tenant that spends its rate leaves every other tenant's untouched. Per server process.
public final class TenantRateLimiter: Sendable {
    private struct Key: Hashable {
        let tenant: TenantID
        let surface: TenantLimits.Surface
    }

    private struct State {
        var buckets: [Key: TokenBucket] = [:]
        /// When full buckets were last forgotten (seconds since `origin`).
        var sweptAt = -Double.infinity
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    /// Past this many buckets, the full ones are forgotten (a full bucket made anew answers the same), at
    /// most once per `sweepInterval` seconds: with more buckets than that all still refilling, a sweep on
    /// every request would cost every request a pass over all of them.
    private let sweepAbove: Int
    private let sweepInterval: Double

    public init(sweepAbove: Int = 10_000, sweepInterval: Double = 1) {
        self.origin = clock.now
        self.sweepAbove = sweepAbove
        self.sweepInterval = sweepInterval
    }

    /// Buckets held now (for tests).
    var count: Int { state.withLock { $0.buckets.count } }

    /// Takes `count` units from the tenant's bucket for `surface`, shaped by `policy`, reserving them when
    /// they come within `maximumWait` seconds (``TokenBucket/take(_:at:maximumWait:)``).
    public func take(_ tenant: TenantID, on surface: TenantLimits.Surface, policy: RatePolicy, count: Int = 1,
                     maximumWait: Double = 0) -> TokenBucket.Decision {
        let now = seconds(since: origin)
        return state.withLock { state in
            if state.buckets.count > sweepAbove, now - state.sweptAt >= sweepInterval {
                state.buckets = state.buckets.filter { !$0.value.isFull(at: now) }
                state.sweptAt = now
            }
            let key = Key(tenant: tenant, surface: surface)
            var bucket = state.buckets[key] ?? TokenBucket(policy: policy, now: now)
            bucket.adopt(policy, at: now)
            let decision = bucket.take(count, at: now, maximumWait: maximumWait)
            state.buckets[key] = bucket
            return decision
        }
    }

    /// Gives back `count` units an allowed take reserved for a request that will not run
    /// (``TokenBucket/giveBack(_:at:)``). A bucket no longer held has nothing to give back to.
    public func giveBack(_ tenant: TenantID, on surface: TenantLimits.Surface, count: Int = 1) {
        let now = seconds(since: origin)
        state.withLock { state in
            state.buckets[Key(tenant: tenant, surface: surface)]?.giveBack(count, at: now)
        }
    }

    private func seconds(since origin: ContinuousClock.Instant) -> Double {
        origin.duration(to: clock.now).inSeconds
    }
}

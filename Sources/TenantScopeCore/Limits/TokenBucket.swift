/// A token bucket: holds up to `policy.burst` tokens, refilled continuously at `policy.perSecond`; each request
/// takes one. Time is given by the caller in seconds on a monotonic clock, so the bucket is deterministic.
public struct TokenBucket: Sendable {
    /// What one request was told.
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        /// Whole tokens left after this request.
        public var remaining: Int
        /// Seconds until the refused cost is there (after an allowed take: until the next token, 0 when one is
        /// there): `Retry-After` of a refusal.
        public var retryAfter: Double
        /// Seconds until the bucket is full again: the `t` of the `RateLimit` field.
        public var resetAfter: Double
    }

    public private(set) var policy: RatePolicy
    private var tokens: Double
    private var updatedAt: Double

    /// A full bucket at `now`.
    public init(policy: RatePolicy, now: Double) {
        self.policy = policy
        self.tokens = Double(policy.burst)
        self.updatedAt = now
    }

    /// Takes `count` tokens if there are that many. A cost above the burst is charged as the burst, so that
    /// any request can pass a full bucket (a batch of 5,000 statements under a burst of 500 waits for a full
    /// bucket, then empties it).
    public mutating func take(_ count: Int = 1, at now: Double) -> Decision {
        refill(at: now)
        let cost = Double(min(max(count, 0), policy.burst))
        let allowed = tokens >= cost
        if allowed { tokens -= cost }
        let missing = allowed ? max(0, 1 - tokens) : cost - tokens
        return Decision(allowed: allowed, remaining: Int(tokens.rounded(.down)), retryAfter: missing / policy.perSecond,
                        resetAfter: (Double(policy.burst) - tokens) / policy.perSecond)
    }

    /// Whether the bucket is full at `now`: a full bucket can be forgotten and made anew without changing
    /// any answer.
    public func isFull(at now: Double) -> Bool {
        tokens + max(0, now - updatedAt) * policy.perSecond >= Double(policy.burst)
    }

    /// Takes a new policy (an operator changed the tier or override), keeping the tokens it still allows.
    public mutating func adopt(_ policy: RatePolicy, at now: Double) {
        guard policy != self.policy else { return }
        refill(at: now)
        self.policy = policy
        tokens = min(tokens, Double(policy.burst))
    }

    private mutating func refill(at now: Double) {
        let elapsed = max(0, now - updatedAt)
        tokens = min(Double(policy.burst), tokens + elapsed * policy.perSecond)
        updatedAt = max(updatedAt, now)
    }
}

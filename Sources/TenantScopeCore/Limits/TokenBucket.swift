/// A token bucket: holds up to `policy.burst` tokens, refilled continuously at `policy.perSecond`; each request
/// takes one. Time is given by the caller in seconds on a monotonic clock, so the bucket is deterministic.
///
/// A take may wait for its tokens (`maximumWait`): it reserves tokens that are not there yet, the bucket goes
/// below zero, and the caller waits until they would have been (the reservation form of a token bucket, as
/// in nginx's `limit_req` with a burst). Later takes queue behind the reservation, so a client over its rate
/// is paced to it rather than refused, as long as its wait stays within the bound.
public struct TokenBucket: Sendable {
    /// What one request was told.
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        /// Whole tokens left after this request (0 while reservations hold the bucket below zero).
        public var remaining: Int
        /// For a refusal, seconds from the end of `wait` until the refused cost is there: its `Retry-After`.
        /// After an allowed take, seconds until the next token (0 when one is there).
        public var retryAfter: Double
        /// Seconds until the bucket is full again: the `t` of the `RateLimit` field.
        public var resetAfter: Double
        /// Seconds the caller waits before it answers. An allowed take waits until its reserved tokens are
        /// there (0 when they were). A refusal waits the whole `maximumWait`: a client that retries every
        /// refusal at once is then answered no faster than one that waits, so refusals cannot become the load.
        public var wait: Double
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

    /// Takes `count` tokens if they are there, or will be within `maximumWait` seconds (then reserved: the
    /// decision's `wait` says how long until they are). A cost above the burst is charged as the burst, so
    /// that any request can pass a full bucket (a batch of 5,000 statements under a burst of 500 waits for a
    /// full bucket, then empties it). With `maximumWait` 0 a take is allowed only when its tokens are there.
    public mutating func take(_ count: Int = 1, at now: Double, maximumWait: Double = 0) -> Decision {
        refill(at: now)
        let cost = Double(min(max(count, 0), policy.burst))
        let until = max(0, cost - tokens) / policy.perSecond
        let allowed = until <= max(0, maximumWait)
        if allowed { tokens -= cost }
        let retryAfter = allowed ? max(0, 1 - tokens) / policy.perSecond : until - max(0, maximumWait)
        return Decision(allowed: allowed, remaining: max(0, Int(tokens.rounded(.down))), retryAfter: retryAfter,
                        resetAfter: (Double(policy.burst) - tokens) / policy.perSecond,
                        wait: allowed ? until : max(0, maximumWait))
    }

    /// Gives back the tokens of an allowed take whose request will not run (cancelled while it waited for
    /// them), so an abandoned request does not spend the rate; never above the burst. Takes that queued behind
    /// it keep the waits they were told, which are then longer than needed, never shorter.
    public mutating func giveBack(_ count: Int = 1, at now: Double) {
        refill(at: now)
        tokens = min(Double(policy.burst), tokens + Double(min(max(count, 0), policy.burst)))
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

import Testing
@testable import TenantScopeCore

/// The bucket behind per-tenant rate limits, on a clock the test moves.
@Suite struct TokenBucketTests {
    @Test func aFullBucketAllowsItsBurstThenRefusesUntilATokenRefills() {
        var bucket = TokenBucket(policy: RatePolicy(perSecond: 2, burst: 3), now: 100)
        let first = (0..<3).map { _ in bucket.take(at: 100) }
        #expect(first.map(\.allowed) == [true, true, true])
        #expect(first.map(\.remaining) == [2, 1, 0])
        let refused = bucket.take(at: 100)
        #expect(!refused.allowed && refused.remaining == 0)
        #expect(abs(refused.retryAfter - 0.5) < 1e-9 && abs(refused.resetAfter - 1.5) < 1e-9)
        // Half a second later one token is back, and only one.
        #expect(bucket.take(at: 100.5).allowed)
        #expect(!bucket.take(at: 100.5).allowed)
        // A long pause refills to the burst, never beyond it.
        #expect(bucket.isFull(at: 200))
        #expect((0..<4).map { _ in bucket.take(at: 200).allowed } == [true, true, true, false])
    }

    @Test func aTakeWithinTheWaitReservesItsTokensAndLaterTakesQueueBehindIt() {
        var bucket = TokenBucket(policy: RatePolicy(perSecond: 2, burst: 1), now: 0)
        let takes = (0..<3).map { _ in bucket.take(at: 0, maximumWait: 1) }
        #expect(takes.map(\.allowed) == [true, true, true])
        #expect(takes.map(\.wait) == [0, 0.5, 1.0], "each waits for the token after the one reserved before it")
        #expect(takes.map(\.remaining) == [0, 0, 0], "a bucket held below zero has nothing left, never less")
        // The next token is 1.5 s away, beyond the wait: refused, after waiting the whole second, and told to
        // come back half a second after that.
        let refused = bucket.take(at: 0, maximumWait: 1)
        #expect(!refused.allowed && refused.wait == 1.0 && abs(refused.retryAfter - 0.5) < 1e-9)
        #expect(abs(refused.resetAfter - 1.5) < 1e-9, "two tokens owed and the burst's one are 1.5 s of refill")
        // The refusal reserved nothing: at 1.5 s the bucket holds one token again.
        #expect(bucket.take(at: 1.5).allowed && !bucket.take(at: 1.5).allowed)
        // Without a wait, an empty bucket refuses at once, as it always did.
        let now = bucket.take(at: 1.5, maximumWait: 0)
        #expect(!now.allowed && now.wait == 0)
    }

    @Test func aReservationGivenBackShortensTheNextWaitButNeverFillsPastTheBurst() {
        var bucket = TokenBucket(policy: RatePolicy(perSecond: 1, burst: 2), now: 0)
        _ = bucket.take(2, at: 0)
        let reserved = bucket.take(at: 0, maximumWait: 5)
        #expect(reserved.allowed && reserved.wait == 1)
        // Its request was cancelled while it waited: the next one waits as if it had never reserved.
        bucket.giveBack(at: 0)
        #expect(bucket.take(at: 0, maximumWait: 5).wait == 1)
        bucket.giveBack(10, at: 100)
        #expect(bucket.isFull(at: 100))
        #expect(bucket.take(3, at: 100).remaining == 0, "a give-back fills to the burst, not beyond")
    }

    @Test func aClockThatStepsBackNeverMintsTokens() {
        var bucket = TokenBucket(policy: RatePolicy(perSecond: 1, burst: 1), now: 50)
        #expect(bucket.take(at: 50).allowed)
        #expect(!bucket.take(at: 40).allowed)
        #expect(!bucket.take(at: 50.5).allowed)
        #expect(bucket.take(at: 51).allowed)
    }

    @Test func aSmallerPolicyKeepsOnlyTheTokensItAllows() {
        var bucket = TokenBucket(policy: RatePolicy(perSecond: 10, burst: 100), now: 0)
        bucket.adopt(RatePolicy(perSecond: 1, burst: 2), at: 0)
        #expect((0..<3).map { _ in bucket.take(at: 0).allowed } == [true, true, false])
        #expect(RatePolicy(perSecond: 5, burst: 20).windowSeconds == 4 && RatePolicy(perSecond: 1000, burst: 1).windowSeconds == 1)
    }

    @Test func aBatchCostsItsItemsAndACostAboveTheBurstNeedsAFullBucket() {
        var bucket = TokenBucket(policy: RatePolicy(perSecond: 10, burst: 50), now: 0)
        #expect(bucket.take(30, at: 0).remaining == 20)
        let refused = bucket.take(30, at: 0)
        #expect(!refused.allowed && abs(refused.retryAfter - 1.0) < 1e-9, "10 more tokens take 1 s")
        #expect(bucket.take(30, at: 1).allowed)
        // 5,000 items under a burst of 50: charged as 50, so it passes a full bucket and empties it.
        #expect(!bucket.take(5_000, at: 1).allowed)
        #expect(bucket.take(5_000, at: 10).allowed && bucket.take(1, at: 10).allowed == false)
    }
}

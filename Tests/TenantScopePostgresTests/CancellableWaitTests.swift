import Synchronization
import Testing
@testable import TenantScopePostgres

/// The waits a request or an opening can be left in end when their task is cancelled: the wait for a pool to start
/// (``OnceSignal/waitUnlessCancelled()``) and the turn in the queue of cluster openings (``OpeningQueue``). Without
/// that, a wait for a pool that never starts, or behind an opening that takes long, held its task for good.
@Suite struct CancellableWaitTests {
    /// Whether `work` returned within `limit`. A wait that never ends is left behind instead of hanging the test.
    static func returns(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        let answered = Flag()
        return await withCheckedContinuation { continuation in
            Task {
                await work()
                if answered.claim() { continuation.resume(returning: true) }
            }
            Task {
                try? await Task.sleep(for: limit)
                if answered.claim() { continuation.resume(returning: false) }
            }
        }
    }

    /// A flag set once, shared between tasks.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)

        /// True for the first call only.
        func claim() -> Bool {
            value.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        }

        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    @Test func aPoolStartWaitEndsWhenItsTaskIsCancelled() async throws {
        let signal = OnceSignal()
        let waiter = Task { await signal.waitUnlessCancelled() }
        try await Task.sleep(for: .milliseconds(100))
        waiter.cancel()
        #expect(await Self.returns(within: .seconds(10)) { await waiter.value })
        #expect(!signal.hasFired)

        // Cancelled before it began waiting: it does not wait at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await signal.waitUnlessCancelled()
        }
        #expect(await Self.returns(within: .seconds(10)) { await early.value })
    }

    @Test func aPoolEndWaitOutlastsCancellationUntilTheSignalFires() async throws {
        let signal = OnceSignal()
        let returned = Flag()
        let waiter = Task {
            await signal.wait()
            _ = returned.claim()
        }
        waiter.cancel()
        try await Task.sleep(for: .milliseconds(200))
        #expect(!returned.isSet, "the runner waits for its pool's end even when cancelled")
        #expect(signal.fire())
        #expect(!signal.fire(), "only the first fire counts")
        #expect(await Self.returns(within: .seconds(10)) { await waiter.value })
        #expect(returned.isSet)
        // Fired already: a new waiter returns at once.
        #expect(await Self.returns(within: .seconds(10)) { await signal.waitUnlessCancelled() })
    }

    @Test func aCallerWaitingForItsTurnLeavesTheQueueWhenCancelled() async throws {
        let queue = OpeningQueue()
        let release = OnceSignal()
        let entered = OnceSignal()
        let holder = Task {
            try await queue.one {
                entered.fire()
                await release.wait()
                return "held"
            }
        }
        await entered.wait()

        let cancelled = Task { try await queue.one { "should not run" } }
        try await Task.sleep(for: .milliseconds(100))
        cancelled.cancel()
        let outcome = Mutex<Result<String, any Error>?>(nil)
        #expect(await Self.returns(within: .seconds(10)) {
            let result = await cancelled.result
            outcome.withLock { $0 = result }
        })
        let result = try #require(outcome.withLock { $0 })
        #expect(throws: CancellationError.self) { try result.get() }

        // The holder still holds the queue; the next caller waits for it and then gets its turn.
        let ran = Flag()
        let next = Task {
            try await queue.one {
                _ = ran.claim()
                return "next"
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!ran.isSet, "one operation at a time")
        release.fire()
        #expect(try await holder.value == "held")
        #expect(try await next.value == "next")
    }
}

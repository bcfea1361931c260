import Foundation
import Synchronization
import Testing
import TenantScopeCore
@testable import TenantScopeServer

/// The per-tenant slots: a tenant that has used its slots queues behind itself, first in first out, and
/// never in front of another tenant; a wait that runs out, or a full queue, is 429.
@Suite struct TenantConcurrencyLimiterTests {
    /// What ran, in order, as the bodies record it.
    final class Order: Sendable {
        private let entries = Mutex<[Int]>([])
        func append(_ index: Int) { entries.withLock { $0.append(index) } }
        func contains(_ index: Int) -> Bool { entries.withLock { $0.contains(index) } }
    }

    /// A gate a body waits at until the test opens it.
    final class Gate: Sendable {
        private let stream: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation

        init() {
            (stream, continuation) = AsyncStream.makeStream()
        }

        func wait() async {
            for await _ in stream { return }
        }

        func open() {
            continuation.yield()
            continuation.finish()
        }
    }

    /// Polls (bounded) until `condition` holds: the limiter's state, not a timer, says when to go on.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<2_000 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(condition())
    }

    @Test func aTenantAtItsLimitQueuesBehindItselfAndNeverDelaysAnother() async throws {
        let a = TenantID(UUID()), b = TenantID(UUID())
        let limiter = TenantConcurrencyLimiter(limits: .init(perKey: 2, maximumWait: .seconds(600), maximumQueued: 10))
        let gates = (0..<3).map { _ in Gate() }
        let order = Order()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<2 {
                group.addTask { try await limiter.run(for: a) { order.append(index); await gates[index].wait() } }
            }
            try await eventually { limiter.load(of: a).running == 2 }
            group.addTask { try await limiter.run(for: a) { order.append(2); await gates[2].wait() } }
            try await eventually { limiter.load(of: a).waiting == 1 }

            // B is not in A's queue: it runs at once while A is full.
            let ranForB = try await limiter.run(for: b) { limiter.load(of: b).running }
            #expect(ranForB == 1)
            #expect(limiter.load(of: a) == (running: 2, waiting: 1))

            // A slot of A frees: the waiting request of A takes it, and only then runs.
            #expect(!order.contains(2))
            gates[0].open()
            try await eventually { order.contains(2) }
            #expect(limiter.load(of: a) == (running: 2, waiting: 0))
            gates[1].open()
            gates[2].open()
            try await group.waitForAll()
        }
        #expect(limiter.load(of: a) == (running: 0, waiting: 0))
    }

    @Test func aWaitThatRunsOutOrAFullQueueIsTooManyRequests() async throws {
        let a = TenantID(UUID())
        let limiter = TenantConcurrencyLimiter(limits: .init(perKey: 1, maximumWait: .milliseconds(200), maximumQueued: 1))
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await limiter.run(for: a) { await gate.wait() } }
            try await eventually { limiter.load(of: a).running == 1 }
            let waiting = Task { try await limiter.run(for: a) { 1 } }
            try await eventually { limiter.load(of: a).waiting == 1 }
            // The queue (one place) is full: refused at once.
            await #expect(throws: TenantConcurrencyLimiter.Busy.self) { try await limiter.run(for: a) { 1 } }
            // The waiting one gives up after its wait, with a Retry-After of at least a second.
            do {
                _ = try await waiting.value
                Issue.record("a request waited past the limit and ran")
            } catch let busy as TenantConcurrencyLimiter.Busy {
                #expect(busy.retryAfterSeconds >= 1 && busy.status == .tooManyRequests)
            }
            #expect(limiter.load(of: a) == (running: 1, waiting: 0))
            gate.open()
            try await group.waitForAll()
        }
        #expect(limiter.load(of: a) == (running: 0, waiting: 0))
        #expect(try await limiter.run(for: a) { 7 } == 7)
    }

    @Test func aCancelledWaiterLeavesTheQueue() async throws {
        let a = TenantID(UUID())
        let limiter = TenantConcurrencyLimiter(limits: .init(perKey: 1, maximumWait: .seconds(600), maximumQueued: 10))
        let gate = Gate()
        let holder = Task { try await limiter.run(for: a) { await gate.wait() } }
        try await eventually { limiter.load(of: a).running == 1 }
        let waiter = Task { try await limiter.run(for: a) { 1 } }
        try await eventually { limiter.load(of: a).waiting == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.load(of: a) == (running: 1, waiting: 0))
        // Cancelled before it even asks: refused at once, not queued for the whole wait.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await limiter.run(for: a) { 1 }
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(limiter.load(of: a) == (running: 1, waiting: 0))
        gate.open()
        try await holder.value
        #expect(limiter.load(of: a) == (running: 0, waiting: 0))
    }
}

import Synchronization

/// Fired once: a pool's start, or its end by whichever comes first, the pool's or the grace's. Every waiter
/// resumes when it fires, or at once after. ``waitUnlessCancelled()`` also resumes when its task is cancelled, so
/// that a wait for a pool that never starts (a service that is not running, or shutting down) can be given up.
final class OnceSignal: Sendable {
    private struct Waiters {
        var fired = false
        var next: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(Waiters())

    init() {}

    /// True for the first call only.
    @discardableResult
    func fire() -> Bool {
        let waiters: [CheckedContinuation<Void, Never>]? = state.withLock { state in
            guard !state.fired else { return nil }
            state.fired = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume() }
        return true
    }

    var hasFired: Bool { state.withLock { $0.fired } }

    /// Returns when the signal has fired, whatever happens to the calling task (a pool's end, which the grace
    /// bounds, must be waited for even by a cancelled runner).
    func wait() async {
        await withCheckedContinuation { continuation in
            if !register(continuation, id: nextID(), unlessCancelled: false) { continuation.resume() }
        }
    }

    /// Returns when the signal has fired, or when the calling task is cancelled (``hasFired`` tells which).
    func waitUnlessCancelled() async {
        let id = nextID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if !register(continuation, id: id, unlessCancelled: true) { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.resume()
        }
    }

    private func nextID() -> UInt64 {
        state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
    }

    /// Keeps `continuation` until the signal fires; false when it must resume now instead. A cancellation that came
    /// before the registration found nothing to resume, so it is checked here, under the same lock.
    private func register(_ continuation: CheckedContinuation<Void, Never>, id: UInt64, unlessCancelled: Bool) -> Bool {
        state.withLock { state in
            if state.fired || (unlessCancelled && Task.isCancelled) { return false }
            state.waiting[id] = continuation
            return true
        }
    }
}

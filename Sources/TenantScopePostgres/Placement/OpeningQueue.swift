/// Runs one operation at a time, in the order they arrive.
///
/// A caller waiting for its turn can be cancelled: it leaves the queue at once with `CancellationError`, and the
/// turn passes on as if it had never come. (A request for a tenant on a cluster being opened waits here; when its
/// client goes away, it must not stay behind the opening.)
actor OpeningQueue {
    private var busy = false
    private var next: UInt64 = 0
    /// Callers waiting for their turn, oldest first; each is resumed with true for its turn, false when cancelled.
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []

    func one<Result: Sendable>(_ operation: @Sendable () async throws -> Result) async throws -> Result {
        if busy {
            let id = next
            next += 1
            let turn = await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    // A cancellation that came before this point found nothing to take out of the queue.
                    if Task.isCancelled { continuation.resume(returning: false) } else { waiters.append((id, continuation)) }
                }
            } onCancel: {
                Task { await self.leave(id) }
            }
            guard turn else { throw CancellationError() }
        } else {
            busy = true
        }
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().continuation.resume(returning: true) }
        }
        return try await operation()
    }

    /// Takes a cancelled caller out of the queue, unless its turn has already come.
    private func leave(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: false)
    }
}

import Foundation

/// Concurrent LRS clients posting statement batches (unique ids, so every row can be accounted for)
/// until stopped, each answer recorded in an ``IngestLedger``. No client retries: a retried batch
/// would blur which attempt was stored.
final class IngestLoad: Sendable {
    let ledger = IngestLedger()
    private let tasks: [Task<Void, Never>]
    private let stopFlag: StopFlag

    /// Starts `clients` loops posting `batchSize` statements per request.
    init(client: ServeClient, key: String, secret: String, clients: Int = 3, batchSize: Int = 10) {
        let ledger = self.ledger
        let stopFlag = StopFlag()
        self.stopFlag = stopFlag
        tasks = (0..<clients).map { _ in
            Task {
                while !stopFlag.isSet {
                    let statements = RandomStatements.make(seed: UInt64.random(in: 0...UInt64.max), count: batchSize,
                                                           start: Date().addingTimeInterval(-5 * 86_400), spanDays: 5)
                    // Each statement opens with {"id":"<uuid>".
                    let ids = statements.map { String($0.dropFirst(7).prefix(36)) }
                    let sentAt = ContinuousClock.now
                    let exchange = await client.postStatements("[" + statements.joined(separator: ",") + "]", key: key, secret: secret)
                    await ledger.record(ids, exchange, sentAt: sentAt)
                    // A refused or failed request is not retried at once: a client backs off (briefly here).
                    if exchange.status != 200 { try? await Task.sleep(for: .milliseconds(100)) }
                }
            }
        }
    }

    /// Stops the clients and waits for their requests in flight to be answered.
    func stop() async {
        stopFlag.set()
        for task in tasks { await task.value }
    }

    /// Waits (bounded) until `count` batches were acknowledged since `instant`; false when the bound passed.
    func waitForAcknowledged(_ count: Int, since instant: ContinuousClock.Instant = .now - .seconds(3600),
                             within bound: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if await ledger.acknowledged(since: instant) >= count { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    private final class StopFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }
}

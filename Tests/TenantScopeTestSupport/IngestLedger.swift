import Foundation

/// Every statement batch a fault test sent and what the server answered, to check against what the
/// database holds afterwards: an acknowledged (200) batch is stored exactly once; any other batch was
/// stored whole or not at all (a transaction, never a part of one).
actor IngestLedger {
    struct Batch: Sendable {
        let ids: [String]
        let exchange: ServeClient.Exchange
        let sentAt: ContinuousClock.Instant

        var acknowledged: Bool { exchange.status == 200 }
    }

    private(set) var batches: [Batch] = []

    func record(_ ids: [String], _ exchange: ServeClient.Exchange, sentAt: ContinuousClock.Instant) {
        batches.append(Batch(ids: ids, exchange: exchange, sentAt: sentAt))
    }

    var acknowledgedCount: Int { batches.filter(\.acknowledged).count }

    /// Batches acknowledged among those sent at or after `instant`.
    func acknowledged(since instant: ContinuousClock.Instant) -> Int {
        batches.filter { $0.acknowledged && $0.sentAt >= instant }.count
    }

    /// How the stored rows (`stored[id]` = number of rows with that id) break the guarantees; empty
    /// when they hold. Also counts rows nobody sent, which would mean a batch was stored twice over.
    func violations(stored: [String: Int]) -> [String] {
        var problems: [String] = []
        var expected = 0
        for batch in batches {
            let counts = batch.ids.map { stored[$0] ?? 0 }
            if batch.acknowledged {
                expected += batch.ids.count
                if counts.contains(where: { $0 != 1 }) {
                    problems.append("acknowledged batch not stored exactly once: counts \(counts) (\(batch.exchange))")
                }
            } else {
                let present = counts.filter { $0 > 0 }.count
                if present != 0 && present != batch.ids.count || counts.contains(where: { $0 > 1 }) {
                    problems.append("unacknowledged batch stored in part: counts \(counts) (\(batch.exchange))")
                }
                if present == batch.ids.count { expected += batch.ids.count }
            }
        }
        let total = stored.values.reduce(0, +)
        if total != expected { problems.append("\(total) rows stored, \(expected) expected from the batches sent") }
        return problems
    }

    /// One line for the test output: how the answers broke down.
    func summary() -> String {
        var byStatus: [String: Int] = [:]
        for batch in batches { byStatus[batch.exchange.status.map(String.init) ?? "transport-error", default: 0] += 1 }
        return byStatus.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}

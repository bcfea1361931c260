import Foundation

/// Polls `/healthz` and `/readyz` of a running server every 100 ms until stopped and keeps every
/// answer, so a test can say what a load balancer would have seen during a fault.
final class HealthProbe: Sendable {
    struct Sample: Sendable {
        let at: ContinuousClock.Instant
        let health: ServeClient.Exchange
        let readiness: ServeClient.Exchange
    }

    private let samples = Samples()
    private let task: Task<Void, Never>

    init(client: ServeClient) {
        let samples = self.samples
        task = Task {
            while !Task.isCancelled {
                let at = ContinuousClock.now
                async let health = client.get("/healthz")
                async let readiness = client.get("/readyz")
                let sample = Sample(at: at, health: await health, readiness: await readiness)
                // A poll cut short by stop() is the probe's own doing, not an answer of the server.
                guard !Task.isCancelled else { break }
                samples.append(sample)
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    var all: [Sample] { samples.all }

    /// Waits (bounded) for the first readiness answer `status` taken at or after `instant`.
    func firstReadiness(_ status: Int, after instant: ContinuousClock.Instant, within bound: Duration) async -> Sample? {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if let sample = samples.all.first(where: { $0.at >= instant && $0.readiness.status == status }) { return sample }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    func stop() async {
        task.cancel()
        await task.value
    }

    private final class Samples: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Sample] = []
        var all: [Sample] { lock.withLock { values } }
        func append(_ sample: Sample) { lock.withLock { values.append(sample) } }
    }
}

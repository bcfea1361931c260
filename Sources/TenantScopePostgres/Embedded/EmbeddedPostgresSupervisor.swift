import Logging
import ServiceLifecycle

/// Keeps the embedded cluster running while `serve` runs: once a second it checks that the postmaster
/// is alive and, when it is not (killed, crashed, stopped from outside), starts it again — PostgreSQL
/// runs crash recovery on start — retrying with a growing pause (1 s to 30 s) while starting fails.
/// Each change is logged once. On graceful shutdown it stops looking; `serve` then stops the cluster.
public struct EmbeddedPostgresSupervisor: Service {
    private let embedded: EmbeddedPostgres
    private let interval: Duration
    private let logger: Logger

    public init(embedded: EmbeddedPostgres, interval: Duration = .seconds(1), logger: Logger) {
        self.embedded = embedded
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var backoff = Duration.seconds(1)
            var down = false
            while !Task.isCancelled {
                if await embedded.postmasterIsAlive() {
                    backoff = .seconds(1)
                    try? await Task.sleep(for: interval)
                    continue
                }
                if !down {
                    logger.error("Embedded PostgreSQL is not running; restarting it")
                    down = true
                }
                do {
                    _ = try await embedded.start()
                    logger.notice("Embedded PostgreSQL restarted")
                    down = false
                    backoff = .seconds(1)
                } catch where !Task.isCancelled {
                    logger.warning("Embedded PostgreSQL did not start; retrying", metadata: [
                        "error": "\(error)", "postgres.retry_in": "\(backoff)",
                    ])
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(30))
                } catch {
                    break
                }
            }
        }
    }
}

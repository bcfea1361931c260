import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs a `PostgresClient` (a pool) until it is cancelled or asked to shut down gracefully, and then
/// waits at most `shutdownGrace` for it to close its connections.
///
/// PostgresNIO's pool returns from `run()` only once every connection it holds or is opening has
/// closed; a connection attempt or a close that never completes (seen in the test suite, where a
/// suite's pools then never ended and the whole run hung) would keep a server that was told to stop
/// from ever exiting. Past the grace the pool is left to finish in the background, with a warning:
/// the process is ending, and what it still held goes with it.
struct PoolRunner: Service {
    static let defaultShutdownGrace: Duration = .seconds(10)

    let client: PostgresClient
    let name: String
    var shutdownGrace: Duration = defaultShutdownGrace
    let logger: Logger
    /// Fired just before the client's `run()` is called: a command waits for it before its first query, or
    /// PostgresNIO warns that a connection was leased from a client not yet running.
    private let started = OnceSignal()

    init(client: PostgresClient, name: String, shutdownGrace: Duration = defaultShutdownGrace, logger: Logger) {
        self.client = client
        self.name = name
        self.shutdownGrace = shutdownGrace
        self.logger = logger
    }

    /// Returns once ``run()`` is calling the client's own `run()`, or when the waiting task is cancelled (a pool
    /// that is never run never starts).
    ///
    /// The signal fires in the task that calls it next, whose first step marks the client running, while the
    /// waiter still has to be scheduled to resume.
    func waitUntilRunning() async {
        await started.waitUnlessCancelled()
    }

    func run() async {
        let finished = OnceSignal()
        let running = Task { [started] in
            started.fire()
            await client.run()
            finished.fire()
        }
        let startGrace: @Sendable () -> Void = { [shutdownGrace, logger, name] in
            Task {
                try? await Task.sleep(for: shutdownGrace)
                if finished.fire() {
                    logger.warning("Database pool did not close its connections within the shutdown grace; left to finish in the background",
                                   metadata: ["db.pool": "\(name)", "db.shutdown_grace": "\(shutdownGrace)"])
                }
            }
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await finished.wait()
            } onGracefulShutdown: {
                startGrace()
            }
        } onCancel: {
            running.cancel()
            startGrace()
        }
    }
}

import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

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

    func run() async {
        let finished = FinishedSignal()
        let running = Task {
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

/// Fired once, by whichever comes first: the pool's end or the grace's.
private final class FinishedSignal: Sendable {
    private enum State {
        case pending(CheckedContinuation<Void, Never>?)
        case fired
    }

    private let state = Mutex(State.pending(nil))

    /// True for the first call only.
    @discardableResult
    func fire() -> Bool {
        let waiter: CheckedContinuation<Void, Never>?? = state.withLock { state in
            guard case .pending(let waiter) = state else { return nil }
            state = .fired
            return .some(waiter)
        }
        guard let waiter else { return false }
        waiter?.resume()
        return true
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state -> Bool in
                guard case .pending = state else { return true }
                state = .pending(continuation)
                return false
            }
            if fired { continuation.resume() }
        }
    }
}

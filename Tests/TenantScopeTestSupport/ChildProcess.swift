import Foundation
@testable import TenantScopePostgres

/// A program the tests start: `serve`, the CLI, moto, a watchdog shell, `pg_dump`, `gzip`.
///
/// Started with `posix_spawn` (through the product's ``ProcessRunner/spawn(_:environment:outputPath:errorPath:)``,
/// every descriptor above standard error closed in the child) and reaped with `waitpid`, never with
/// Foundation's `Process`: that one learns of a child's end through a socket it hands the child, did
/// not always notice it here (a serve killed with SIGKILL stayed "running" as a zombie), and its
/// `waitUntilExit()` has no bound. Every wait here has one, so a stuck child fails its test, naming
/// the program, instead of stalling the whole run.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let executable: String
    private let lock = NSLock()
    private var status: Int32?

    private init(pid: pid_t, executable: String) {
        self.pid = pid
        self.executable = executable
    }

    /// Starts `executable` with `arguments` and `environment` (this process's when nil); standard
    /// output goes to `outputPath`, standard error to `errorPath` (the same file when nil).
    static func start(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                      outputPath: String = "/dev/null", errorPath: String? = nil) throws -> ChildProcess {
        let pid = try ProcessRunner.spawn([executable] + arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                                          outputPath: outputPath, errorPath: errorPath)
        return ChildProcess(pid: pid, executable: executable)
    }

    /// The exit status (128 + signal when a signal ended it), nil while the child runs. Reaps it once.
    var exitStatus: Int32? {
        lock.withLock {
            if status == nil {
                var raw: Int32 = 0
                let reaped = waitpid(pid, &raw, WNOHANG)
                if reaped == pid { status = ProcessRunner.exitStatus(raw) }
                // Not our child any more (cannot happen unless someone else reaped it): it is gone.
                else if reaped == -1, errno == ECHILD { status = -1 }
            }
            return status
        }
    }

    var isRunning: Bool { exitStatus == nil }

    /// Sends `signal` while the child runs (never to a pid the system may have handed to another process).
    func send(_ signal: Int32) {
        lock.withLock { if status == nil { kill(pid, signal) } }
    }

    /// Waits until the child has exited; its status, or nil when it still runs after `bound`.
    func waitForExit(within bound: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if let exitStatus { return exitStatus }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return exitStatus
    }

    /// Waits for the exit; after `bound` the child is killed and this throws, naming the program: a
    /// hang detector, so that a stuck child fails its test instead of stalling the whole run.
    func exit(within bound: Duration) async throws -> Int32 {
        if let status = await waitForExit(within: bound) { return status }
        send(SIGKILL)
        _ = await waitForExit(within: .seconds(10))
        throw ChildProcessTimeout(description: "\(executable) did not finish within \(bound) and was killed")
    }
}

struct ChildProcessTimeout: Error, CustomStringConvertible {
    let description: String
}

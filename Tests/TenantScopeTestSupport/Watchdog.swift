import Foundation
@testable import TenantScopePostgres

/// Stops a test cluster when the test process is gone, whether it exited, crashed or was killed.
///
/// A detached shell polls the test process's pid once a second and runs `pg_ctl stop -m immediate`
/// when it disappears: no exit handler of ours has to run.
enum Watchdog {
    /// - Parameter server: a `serve` process to kill first: its supervisor would otherwise start the
    ///   cluster again right after the watchdog stopped it.
    static func stopWhenThisProcessExits(dataDirectory: String, killingServer server: pid_t? = nil) {
        guard let binaries = try? PostgresBinaries.locate() else { return }
        let stop = (geteuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : "") + "\(binaries.pgCtl) stop -D '\(dataDirectory)' -m immediate -s"
        let killServer = server.map { "kill -KILL \($0) 2>/dev/null; " } ?? ""
        afterThisProcess("\(killServer)\(stop) >/dev/null 2>&1")
    }

    /// Kills `pid` (a server the tests started: moto) when the test process is gone.
    static func killWhenThisProcessExits(_ pid: pid_t) {
        afterThisProcess("kill -KILL \(pid) 2>/dev/null")
    }

    /// Runs `command` in a detached shell once this process has ended. `setsid` puts the shell in a
    /// session of its own: a Ctrl-C or a kill of the test run's process group leaves it there to clean up.
    private static func afterThisProcess(_ command: String) {
        let script = "cd / && while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; " + command
        _ = try? ChildProcess.start("/usr/bin/setsid", ["/bin/sh", "-c", script])
    }
}

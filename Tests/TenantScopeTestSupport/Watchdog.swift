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
        let script = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(killServer)\(stop) >/dev/null 2>&1"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["/bin/sh", "-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What is left of a cluster whose postmaster died: its backends and auxiliary processes.
///
/// They normally exit within moments of noticing the death, but one that waits on a lock a killed process held (an
/// LWLock wait does not watch the postmaster) never does, and while any is attached to the old shared memory,
/// PostgreSQL refuses to start the cluster ("pre-existing shared memory block ... is still in use"; its hint: terminate
/// any old server processes associated with the data directory). That is what this does, the way an operator would:
/// from `/proc`, on Linux.
enum OrphanedServerProcesses {
    /// The server processes left in `dataDirectory`: processes running `binaryDirectory`'s `postgres` with the data
    /// directory as their working directory and a server child's title (`postgres: ...`). A postmaster keeps its
    /// command line, so one starting at the same moment is never among them; the caller makes sure no postmaster runs.
    static func find(dataDirectory: String, binaryDirectory: String) -> [pid_t] {
        guard let data = resolved(dataDirectory), let binary = resolved(binaryDirectory + "/postgres") else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != getpid(),
                  link("/proc/\(entry)/cwd") == data,
                  let exe = link("/proc/\(entry)/exe"), exe == binary || exe == binary + " (deleted)",
                  let commandLine = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  commandLine.starts(with: Data("postgres: ".utf8))
            else { return nil }
            return pid
        }
    }

    /// Kills `pids` (`SIGKILL`: the cluster is being recovered from a crash anyway) and waits up to `timeout` for them to
    /// leave `dataDirectory`. Returns the pids still there.
    static func terminate(_ pids: [pid_t], dataDirectory: String, binaryDirectory: String, timeout: Duration = .seconds(5)) async -> [pid_t] {
        // Looked at again right before: a process that exited since may have left its pid to an unrelated one.
        let still = Set(find(dataDirectory: dataDirectory, binaryDirectory: binaryDirectory))
        for pid in pids where still.contains(pid) { kill(pid, SIGKILL) }
        let deadline = ContinuousClock.now + timeout
        var left = Set(pids)
        while !left.isEmpty, ContinuousClock.now < deadline {
            // An exited process is gone from this list even while it waits to be reaped: its links no longer resolve.
            left.formIntersection(find(dataDirectory: dataDirectory, binaryDirectory: binaryDirectory))
            if !left.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
        }
        return left.sorted()
    }

    private static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func link(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }
}

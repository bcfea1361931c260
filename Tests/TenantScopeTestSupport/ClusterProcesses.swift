import Foundation

/// The processes of one PostgreSQL cluster, found the way an operator would: the postmaster's pid is
/// line 1 of `<datadir>/postmaster.pid`, its backends and auxiliary processes are its children.
/// Signalling them simulates a crash (`SIGKILL`) or a frozen host (`SIGSTOP`/`SIGCONT`).
enum ClusterProcesses {
    static func postmaster(dataDirectory: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces)), pid > 0
        else { return nil }
        return kill(pid, 0) == 0 ? pid : nil
    }

    /// The direct children of `parent`, from `/proc/<pid>/stat` (field 4, after the command in parentheses).
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    /// The children of `postmaster` that serve a client over TCP (their title names the client's address and port).
    static func clientBackends(of postmaster: pid_t) -> [pid_t] {
        children(of: postmaster).filter { pid in
            let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) } ?? ""
            return commandLine.hasPrefix("postgres: ") && commandLine.contains("127.0.0.1(")
        }
    }

    /// Whether `pid` still runs (a zombie waiting to be reaped does not: its `/proc` entry has no executable).
    static func isRunning(_ pid: pid_t) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) != nil
    }

    /// Sends `signal` to the postmaster and all its children; returns how many processes it reached.
    ///
    /// The postmaster is stopped before its children are listed, so none is forked after the list: one forked between
    /// the list and a `SIGKILL` would outlive the cluster it belongs to, which no crash of a host leaves behind (and
    /// one waiting on a lock a killed process held waits for good, keeping the cluster from starting: the likeliest
    /// reading of a CI run in which it never started again). It gets `signal` before them, so a dead or stopped postmaster cannot replace a child signalled after it.
    @discardableResult
    static func signalAll(dataDirectory: String, _ signal: Int32) -> Int {
        guard let postmaster = postmaster(dataDirectory: dataDirectory) else { return 0 }
        kill(postmaster, SIGSTOP)
        let children = children(of: postmaster)
        kill(postmaster, signal)
        for child in children { kill(child, signal) }
        return 1 + children.count
    }
}

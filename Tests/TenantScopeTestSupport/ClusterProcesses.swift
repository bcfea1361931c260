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

    /// Sends `signal` to the postmaster and all its children; returns how many processes it reached.
    ///
    /// The children are listed first and the postmaster is signalled before them: a postmaster that is
    /// already stopped or dead cannot fork a replacement for a child signalled after it.
    @discardableResult
    static func signalAll(dataDirectory: String, _ signal: Int32) -> Int {
        guard let postmaster = postmaster(dataDirectory: dataDirectory) else { return 0 }
        let children = children(of: postmaster)
        kill(postmaster, signal)
        for child in children { kill(child, signal) }
        return 1 + children.count
    }
}

import Foundation

/// Which `serve` owns the embedded cluster: the process that started it, recorded in `<state>/serve.owner` as its
/// process id and start time.
///
/// A `serve` stops the cluster it started when it exits, and leaves a cluster it found running to whoever started it
/// (another `serve`, or `db start`). A `serve` killed outright cannot stop its cluster; the record lets the next `serve`
/// see that the cluster's owner is gone and adopt it. The start time tells a process that reused the id apart. A
/// cluster `db start` started (or found running) has no record, so no `serve` ever adopts it.
struct ServeOwnership: Sendable {
    /// A process, told apart from a later one with the same id by when it started.
    struct Owner: Equatable, Sendable {
        var pid: pid_t
        /// Clock ticks after boot (field 22 of `/proc/<pid>/stat`).
        var startTime: UInt64
    }

    let path: String

    init(stateDirectory: String) {
        path = stateDirectory + "/serve.owner"
    }

    /// This process.
    static func current() -> Owner? {
        let pid = getpid()
        return startTime(of: pid).map { Owner(pid: pid, startTime: $0) }
    }

    /// When the process `pid` started; nil when there is none.
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let afterName = stat.range(of: ")", options: .backwards)
        else { return nil }
        // After the command name: state is field 3, so the start time (field 22) is the 20th.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// The recorded owner; nil when there is no readable record.
    func read() -> Owner? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, let start = UInt64(parts[1]) else { return nil }
        return Owner(pid: pid, startTime: start)
    }

    func write(_ owner: Owner) throws {
        try Data("\(owner.pid) \(owner.startTime)\n".utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Whether a record names a process that is gone: the cluster it started was left behind.
    func ownerIsGone() -> Bool {
        guard let owner = read() else { return false }
        return Self.startTime(of: owner.pid) != owner.startTime
    }
}

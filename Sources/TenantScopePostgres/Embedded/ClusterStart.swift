import Foundation
import TenantScopeCore

/// Starting an embedded cluster (the primary or a read replica) with `pg_ctl`, the same way for both.
///
/// The caller picks a free port first, but another process can bind it between that check and the server's own bind.
/// The server then logs "could not bind … Address already in use" and `pg_ctl` fails; the start takes another free port
/// and tries again, up to ``portAttempts`` times.
enum ClusterStart {
    /// How many times a start picks a new port when another process takes the chosen one first.
    static let portAttempts = 3

    /// Starts the cluster in `dataDirectory` on `port`, each attempt first writing the server's settings for its port
    /// (`configure`). When a start lost its port, `moved` is told the new one (to save it) before the next attempt.
    /// Returns the port the cluster runs on; throws `pg_ctl`'s failure, with the end of the log, named as `what`.
    static func run(
        what: String, pgCtl: String, dataDirectory: String, logFile: String, port: Int,
        configure: (Int) throws -> Void, moved: (Int) throws -> Void, progress: (String) -> Void,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Int {
        var port = port
        for attempt in 1...portAttempts {
            try configure(port)
            progress("Starting \(what) on 127.0.0.1:\(port)")
            let logged = size(of: logFile)
            let result = try await ProcessRunner.run(
                pgCtl, ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", "120", "-s"], asPostgresUser: true)
            if result.status == 0 { return port }
            if attempt < portAttempts, lostItsPort(logFile, since: logged), let free = FreePort.find() {
                try moved(free)
                port = free
                continue
            }
            throw TenantScopeError.environment("\(what) did not start (pg_ctl exit \(result.status)): \(result.output.trimmed)\n"
                                               + "Last lines of \(logFile):\n\(tail(of: logFile))")
        }
        return port
    }

    /// The size of the file at `path` (0 when there is none yet).
    static func size(of path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// Whether the server's log, after `offset`, says it could not bind its port because another process holds it.
    static func lostItsPort(_ path: String, since offset: UInt64) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        return text.contains("could not bind") && text.contains("Address already in use")
    }

    /// The last `lines` lines of the log at `path`, for an error message.
    static func tail(of path: String, lines: Int = 15) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

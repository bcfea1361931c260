import Foundation
import TenantScopeCore

/// The system's PostgreSQL server programs (`initdb`, `pg_ctl`), as Debian installs them.
public struct PostgresBinaries: Sendable {
    public let directory: String
    public let majorVersion: Int

    public var initdb: String { directory + "/initdb" }
    public var pgCtl: String { directory + "/pg_ctl" }
    public var pgBasebackup: String { directory + "/pg_basebackup" }

    /// The command that installs the server programs, for error messages.
    public static var installHint: String {
        ProcessRunner.isRoot ? "apt-get install -y postgresql" : "sudo apt-get install -y postgresql"
    }

    /// Finds the newest installed server (15 or later), or `TENANTSCOPE_PG_BIN` when set.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(TenantScopeError) -> Self {
        let fm = FileManager.default
        if let override = environment["TENANTSCOPE_PG_BIN"], !override.isEmpty {
            guard fm.isExecutableFile(atPath: override + "/pg_ctl") else {
                throw .environment("TENANTSCOPE_PG_BIN=\(override) has no pg_ctl")
            }
            return PostgresBinaries(directory: override, majorVersion: 0)
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fm.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init)
            .filter { $0 >= 15 && fm.isExecutableFile(atPath: "\(root)/\($0)/bin/initdb") && fm.isExecutableFile(atPath: "\(root)/\($0)/bin/pg_ctl") }
            .sorted()
        guard let newest = versions.last else {
            throw .environment(
                "PostgreSQL server binaries (initdb, pg_ctl, version 15 or later) were not found in \(root)/*/bin. "
                    + "Install them with: \(installHint)  (or pass --database-url to use an existing server)"
            )
        }
        return PostgresBinaries(directory: "\(root)/\(newest)/bin", majorVersion: newest)
    }
}

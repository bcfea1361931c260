import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

/// A command that works on the database: `run()` bootstraps logging, starts the embedded cluster when
/// it is the one to use (and stops it again if it started it), applies pending migrations, runs the
/// pools around ``run(on:logger:)``, and turns errors into messages for a person. Commands only say what
/// to do with the database and how to print the result.
protocol DatabaseCommand: AsyncParsableCommand {
    associatedtype Output: Sendable

    var database: DatabaseOptions { get }

    /// The command's work, with the database migrated and its pools (the server's and the owner's) running.
    func run(on database: AdminDatabase, logger: Logger) async throws -> Output

    /// Prints the result for a person (standard output; progress goes to standard error).
    func report(_ output: Output) throws
}

extension DatabaseCommand {
    func run() async throws {
        TenantScopeCommand.bootstrapLogging()
        let logger = Logger(label: "tenantscope")
        let output = try await database.withDatabase(logger: logger) { db in
            try await run(on: db, logger: logger)
        }
        try report(output)
    }
}

extension AuditLog.Entry {
    /// An administrative action run from the command line, attributed to the person running it.
    static func operatorAction(_ action: String, tenant: TenantID?, report: String? = nil, parameters: [String: String] = [:]) -> Self {
        .init(actor: operatorName(), actorKind: "operator", scopeTenant: tenant, action: action, report: report,
              parameters: parameters, outcome: "ok")
    }
}

/// Who runs an administrative CLI command, for the audit log.
func operatorName() -> String {
    let environment = ProcessInfo.processInfo.environment.filter { !$0.value.isEmpty }
    // Without them (cron, systemd units) the OS user the command runs as, not "unknown" (probe 38).
    let account = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
    return "cli:" + (environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? account ?? "unknown")
}

/// Parses a slug from the command line, as a usage error when it is malformed.
func parseSlug(_ text: String) throws -> TenantSlug {
    do { return try TenantSlug(text) } catch { throw ValidationError(error.description) }
}

/// Prints rows as left-aligned columns, the first row being the header.
func printTable(_ rows: [[String]]) {
    let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}

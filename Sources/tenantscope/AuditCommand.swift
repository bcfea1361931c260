import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Inspect the hash-chained audit log.", subcommands: [Verify.self, Tail.self]
    )

    struct Verify: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain; exit 1 naming the first broken row.")

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> Int? {
            try await db.auditTrail.firstBrokenRow(logger: logger)
        }

        func report(_ broken: Int?) throws {
            if let broken {
                FileHandle.standardError.write(Data("audit log tampered: row \(broken) does not match its hash chain\n".utf8))
                throw ExitCode(1)
            }
            print("Audit chain intact.")
        }
    }

    struct Tail: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "Show the most recent audit rows.")

        @Option(help: "How many rows.")
        var limit = 20

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> [AuditTrail.Row] {
            try await db.auditTrail.tail(limit: max(1, min(limit, 1000)), logger: logger)
        }

        func report(_ rows: [AuditTrail.Row]) {
            for row in rows {
                let e = row.entry
                let parameters = e.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                print([
                    "\(row.seq)", ISO8601Timestamp.format(row.occurredAt), "\(e.actorKind):\(e.actor)",
                    e.scopeTenant.map { "tenant=\($0)" } ?? "tenant=-", e.action, e.report ?? "-",
                    parameters.isEmpty ? "-" : parameters, e.rowCount.map { "rows=\($0)" } ?? "rows=-", e.outcome,
                ].joined(separator: "  "))
            }
        }
    }
}

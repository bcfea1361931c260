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
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain and the signed checkpoints of its head; exit 1 naming what was changed.",
            discussion: """
                The chain shows an edited or deleted row. The checkpoints (audit/checkpoints.jsonl in the state \
                directory, signed with keys/audit-checkpoint.secret, which the database never holds) show a chain \
                rewritten from some row on, or a tail cut off: every checkpointed row must still be in the \
                database with the same hash.
                """)

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> AuditVerification {
            let checkpoints = try database.auditCheckpoints()
            return try await db.auditTrail.verify(against: checkpoints.read(), logger: logger)
        }

        func report(_ result: AuditVerification) throws {
            var problems: [String] = []
            if let broken = result.firstBrokenRow { problems.append("row \(broken) does not match its hash chain") }
            if !result.missingRows.isEmpty {
                problems.append("checkpointed rows are gone (the log was truncated): \(result.missingRows.map(String.init).joined(separator: ", "))")
            }
            if !result.rewrittenRows.isEmpty {
                problems.append("checkpointed rows have another hash (the chain was rewritten): \(result.rewrittenRows.map(String.init).joined(separator: ", "))")
            }
            guard problems.isEmpty else {
                FileHandle.standardError.write(Data(("audit log tampered: " + problems.joined(separator: "; ") + "\n").utf8))
                throw ExitCode(1)
            }
            print("Audit chain intact; \(result.checkpointsCompared) checkpoint(s) match.")
        }
    }

    struct Tail: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "Show the most recent audit rows.")

        @Option(help: "How many rows (1 to 1000).")
        var limit = 20

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit takes 1 to 1000 rows, got \(limit)") }
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> [AuditTrail.Row] {
            try await db.auditTrail.tail(limit: min(limit, 1000), logger: logger)
        }

        /// `text` on one line of a terminal: control characters and line separators (which a report parameter, or an
        /// actor written before tokens refused them, may hold) as `\u{…}` escapes, so no value can print a row of its own.
        static func printable(_ text: String) -> String {
            guard text.unicodeScalars.contains(where: \.isControlOrLineSeparator) else { return text }
            return text.unicodeScalars.map { $0.isControlOrLineSeparator ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
        }

        func report(_ rows: [AuditTrail.Row]) {
            for row in rows {
                let e = row.entry
                let parameters = e.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                print([
                    "\(row.seq)", ISO8601Timestamp.format(row.occurredAt), "\(e.actorKind):\(e.actor)",
                    e.scopeTenant.map { "tenant=\($0)" } ?? "tenant=-", e.action, e.report ?? "-",
                    parameters.isEmpty ? "-" : parameters, e.rowCount.map { "rows=\($0)" } ?? "rows=-", e.outcome,
                ].map(Self.printable).joined(separator: "  "))
            }
        }
    }
}

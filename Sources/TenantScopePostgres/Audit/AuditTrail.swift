import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The audit log as an operator reads it (owner connection, command line only): recent rows, and the
/// check of the hash chain.
public struct AuditTrail: Sendable {
    public struct Row: Sendable, Hashable {
        public var seq: Int
        public var occurredAt: Date
        public var entry: AuditLog.Entry
        public var hash: String
    }

    let ownerClient: PostgresClient

    /// The newest rows, newest last.
    public func tail(limit: Int, logger: Logger) async throws -> [Row] {
        var result: [Row] = []
        let rows = try await ownerClient.query("""
            SELECT seq, occurred_at, actor, actor_kind, scope_tenant_id, action, report, parameters::text, row_count, outcome, hash
            FROM (SELECT * FROM app.audit_log ORDER BY seq DESC LIMIT \(limit)) r ORDER BY seq
            """, logger: logger)
        for try await row in rows {
            let cells = row.makeRandomAccess()
            let parametersText = try cells[7].decode(String.self)
            let parameters = (try? JSONParser.parse(Array(parametersText.utf8)))?.objectValue ?? [:]
            result.append(Row(
                seq: try cells[0].decode(Int.self), occurredAt: try cells[1].decode(Date.self),
                entry: AuditLog.Entry(
                    actor: try cells[2].decode(String.self), actorKind: try cells[3].decode(String.self),
                    scopeTenant: try cells[4].decode(UUID?.self).map(TenantID.init), action: try cells[5].decode(String.self),
                    report: try cells[6].decode(String?.self), parameters: Dictionary(parameters.map { ($0.key, $0.value.stringValue ?? $0.value.jsonText) }, uniquingKeysWith: { $1 }),
                    rowCount: try cells[8].decode(Int?.self), outcome: try cells[9].decode(String.self)
                ),
                hash: try cells[10].decode(String.self)
            ))
        }
        return result
    }

    /// The first row whose hash or link does not match, or nil when the chain is intact.
    public func firstBrokenRow(logger: Logger) async throws -> Int? {
        try await ownerClient.query("SELECT app.first_broken_audit_row()", logger: logger).collect().first?.decode(Int?.self) ?? nil
    }

    /// The hash stored for each of `seqs` (missing sequence numbers are absent from the result).
    public func hashes(of seqs: [Int], logger: Logger) async throws -> [Int: String] {
        var hashes: [Int: String] = [:]
        let rows = try await ownerClient.query("SELECT seq, hash FROM app.audit_log WHERE seq = ANY (\(seqs))", logger: logger)
        for try await (seq, hash) in rows.decode((Int, String).self) { hashes[seq] = hash }
        return hashes
    }
}

import Logging

/// What `tenantscope audit verify` found: the hash chain inside the database, and the chain against the
/// checkpoints written outside it.
public struct AuditVerification: Sendable, Hashable {
    /// The first row whose hash or link does not match (an edited or deleted row).
    public var firstBrokenRow: Int?
    /// Checkpointed rows the database no longer holds (the log's tail was cut off).
    public var missingRows: [Int]
    /// Checkpointed rows whose hash changed (the chain was rewritten from there on).
    public var rewrittenRows: [Int]
    /// How many checkpoints were compared.
    public var checkpointsCompared: Int

    public var isIntact: Bool { firstBrokenRow == nil && missingRows.isEmpty && rewrittenRows.isEmpty }

    /// Compares checkpoints with the hashes the database holds for their rows.
    public static func compare(_ checkpoints: [AuditCheckpoints.Checkpoint], with stored: [Int: String], firstBrokenRow: Int?) -> Self {
        var missing: [Int] = []
        var rewritten: [Int] = []
        for checkpoint in checkpoints {
            switch stored[checkpoint.head.seq] {
            case nil: missing.append(checkpoint.head.seq)
            case let hash? where hash != checkpoint.head.hash: rewritten.append(checkpoint.head.seq)
            default: continue
            }
        }
        return Self(firstBrokenRow: firstBrokenRow, missingRows: Array(Set(missing)).sorted(),
                    rewrittenRows: Array(Set(rewritten)).sorted(), checkpointsCompared: checkpoints.count)
    }
}

extension AuditTrail {
    /// Checks the chain and compares it with `checkpoints` (read and MAC-checked by the caller).
    public func verify(against checkpoints: [AuditCheckpoints.Checkpoint], logger: Logger) async throws -> AuditVerification {
        let broken = try await firstBrokenRow(logger: logger)
        let stored = try await hashes(of: Array(Set(checkpoints.map(\.head.seq))), logger: logger)
        return AuditVerification.compare(checkpoints, with: stored, firstBrokenRow: broken)
    }
}

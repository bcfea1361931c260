import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The one appender of a server's audit rows (architecture decision 34): entries that arrive while a
/// batch is being written wait together and go in the next batch, in one call of
/// `app.append_signed_audit_batch` — one chain lock, one round trip, one commit for all of them. A lone
/// entry goes at once, so an idle server appends exactly as before; under load, appends no longer queue
/// on the table lock one transaction at a time.
///
/// Each caller still gets its own row's sequence number, or its own error: if the database refuses a
/// batch, its entries are appended one by one, so one bad entry cannot cost the others their audit row;
/// if the database is unavailable, every entry of the batch gets that error at once (503).
actor AuditAppender {
    /// One signed entry, as the database function takes it.
    struct Arguments: Sendable {
        var principal: String
        var scopeTenant: String
        var action: String
        var report: String
        var parameters: String
        var rowCount: String
        var outcome: String
    }

    private struct Waiting {
        var arguments: Arguments
        var logger: Logger
        var continuation: CheckedContinuation<Int, any Error>
    }

    /// The most entries one batch takes (the database function refuses more than 1,000).
    static let maximumBatch = 500

    private let pool: DatabasePool
    private var waiting: [Waiting] = []
    private var draining = false
    /// Batches written so far (diagnostics and tests: under concurrency, fewer than the entries).
    private(set) var batchesWritten = 0
    /// Appends called and not yet answered (diagnostics and tests).
    private(set) var pending = 0

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Appends one entry with whatever else is waiting; returns its sequence number.
    func append(_ arguments: Arguments, logger: Logger) async throws -> Int {
        pending += 1
        defer { pending -= 1 }
        return try await withCheckedThrowingContinuation { continuation in
            waiting.append(Waiting(arguments: arguments, logger: logger, continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(Self.maximumBatch))
            waiting.removeFirst(batch.count)
            do {
                let seqs = try await write(batch.map(\.arguments), logger: batch[0].logger)
                for (entry, seq) in zip(batch, seqs) { entry.continuation.resume(returning: seq) }
            } catch where batch.count > 1 && !Self.failsEveryEntry(error) {
                // The database refused an entry: the others go one by one. (An unavailable database fails
                // them all at once, here as below, rather than making each wait out its own timeout in turn.)
                var unavailable: (any Error)?
                for entry in batch {
                    if let unavailable {
                        entry.continuation.resume(throwing: unavailable)
                        continue
                    }
                    do {
                        entry.continuation.resume(returning: try await write([entry.arguments], logger: entry.logger)[0])
                    } catch {
                        if Self.failsEveryEntry(error) { unavailable = error }
                        entry.continuation.resume(throwing: error)
                    }
                }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        draining = false
    }

    /// Whether `error` says nothing about the entries but that none can be written now: the database is
    /// unavailable, or the server is stopping.
    private static func failsEveryEntry(_ error: any Error) -> Bool {
        error is DatabaseUnavailable || error is CancellationError
    }

    private func write(_ entries: [Arguments], logger: Logger) async throws -> [Int] {
        batchesWritten += 1
        let rows = try await pool.query("""
            SELECT app.append_signed_audit_batch(\(entries.map(\.principal)), \(entries.map(\.scopeTenant)), \(entries.map(\.action)),
                                                 \(entries.map(\.report)), \(entries.map(\.parameters)), \(entries.map(\.rowCount)),
                                                 \(entries.map(\.outcome)))
            """, logger: logger)
        let seqs = try rows.first?.decode([Int].self) ?? []
        guard seqs.count == entries.count else {
            throw TenantScopeError.environment("an audit batch of \(entries.count) entries returned \(seqs.count) sequence numbers")
        }
        return seqs
    }
}

import Logging
import PostgresNIO

/// Running statements for their effect, and ending transactions, on a connection outside the scoped runner (migrations,
/// tenant creation and moves) as ``ScopedDatabase`` does inside it (architecture decision 98).
extension PostgresConnection {
    /// Runs `query` for its effect, reading whatever it returns: an error PostgreSQL raises while producing rows (a
    /// function's `RAISE`, a lock wait's timeout) arrives with them, and rows never read lose it.
    func execute(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws {
        _ = try await self.query(query, logger: logger, file: file, line: line).collect()
    }

    /// Sends COMMIT and throws ``TransactionRolledBack`` when PostgreSQL answered ROLLBACK instead, which it does, without
    /// an error, for a transaction that a statement's unread error had aborted: nothing of it was kept.
    func commit(logger: Logger) async throws {
        guard try await commitWasKept(logger: logger) else { throw TransactionRolledBack() }
    }

    /// Sends COMMIT and says whether PostgreSQL committed (`true`) or answered ROLLBACK (`false`).
    func commitWasKept(logger: Logger) async throws -> Bool {
        let result: EventLoopFuture<PostgresQueryResult> = query("COMMIT", logger: logger)
        return try await result.get().metadata.command == "COMMIT"
    }
}

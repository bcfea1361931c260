import PostgresNIO

/// PostgreSQL ended a transaction to resolve a conflict with a concurrent one: a deadlock (40P01), a serialization
/// failure (40001), or a lock a concurrent transaction held longer than the wait allowed (55P03: `lock_timeout`, as a
/// product-event batch sets it). Nothing of it happened, and the same request is expected to succeed when sent again,
/// so it is answered like an outage (503 with `Retry-After`), never as a server error. Not a ``DatabaseUnavailable``: the
/// database is up, and the pool's health must not call an outage.
public enum TransactionConflict {
    /// Whether `error` is PostgreSQL ending the transaction for a concurrent one.
    public static func matches(_ error: any Error) -> Bool {
        sqlState(of: error) != nil
    }

    /// The SQLSTATE of such an error (for the log: its message and detail may quote a request's values), else nil.
    public static func sqlState(of error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState],
              ["40P01", "40001", "55P03"].contains(state)
        else { return nil }
        return state
    }
}

import PostgresNIO

/// The backends of a database that wait for a lock: how a test sees that a transaction it started is blocked by one it
/// holds open (an uncommitted row, a tenant's row lock), before it lets that one go.
enum LockWaiters {
    /// Whether at least `count` backends of `connection`'s database wait for a lock within 60 s (a hang detector).
    static func await(_ count: Int, on connection: PostgresConnection) async throws -> Bool {
        for _ in 0..<600 {
            let waiting = try await connection.query("""
                SELECT count(*)::int FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE NOT l.granted AND a.datname = current_database()
                """, logger: TestDatabase.logger).collect().first?.decode(Int.self) ?? 0
            if waiting >= count { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

import PostgresNIO
import TenantScopeCore

/// Tenants' derivation locks held by hand on one connection (the owner's or the superuser's), and the backends that wait
/// for them: how the tests see a catch-up or a batch waiting for its tenant's lock (the key `app.lock_tenant_derivation()` takes).
public struct DerivationLockProbe {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public static func key(_ tenant: TenantID) -> String { "tenantscope.derive.\(tenant)" }

    public func hold(_ tenant: TenantID) async throws {
        _ = try await connection.query("SELECT pg_advisory_lock(hashtextextended(\(Self.key(tenant)), 0))", logger: TestDatabase.logger).collect()
    }

    public func release(_ tenant: TenantID) async throws {
        _ = try await connection.query("SELECT pg_advisory_unlock(hashtextextended(\(Self.key(tenant)), 0))", logger: TestDatabase.logger).collect()
    }

    /// The backend waiting for `tenant`'s lock, if one is (an advisory lock's key is split into classid and objid).
    public func waiter(_ tenant: TenantID) async throws -> Int32? {
        try await connection.query("""
            SELECT l.pid FROM pg_locks l, (SELECT hashtextextended(\(Self.key(tenant)), 0) AS key) k
            WHERE l.locktype = 'advisory' AND NOT l.granted
              AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295
            """, logger: TestDatabase.logger).collect().first?.decode(Int32.self)
    }

    /// The backend that waits for `tenant`'s lock within 60 s (a hang detector), or nil.
    public func awaitWaiter(_ tenant: TenantID) async throws -> Int32? {
        for _ in 0..<600 {
            if let pid = try await waiter(tenant) { return pid }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// The tables and indexes of the `app` schema that backend `pid` holds a lock on, named, but `app.tenants` and its
    /// indexes: every scoped transaction reads its tenant's row as it starts (the tenant gate, migration 28), a
    /// request's as much as a catch-up's, so that lock is the scope's. Empty when there is none.
    public func appTableLocks(of pid: Int32) async throws -> String {
        try await connection.query("""
            SELECT coalesce(string_agg(DISTINCT c.relname, ', ' ORDER BY c.relname), '')
            FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            WHERE l.pid = \(pid) AND l.locktype = 'relation' AND c.relnamespace = 'app'::regnamespace
              AND c.oid NOT IN (SELECT 'app.tenants'::regclass UNION SELECT indexrelid FROM pg_index WHERE indrelid = 'app.tenants'::regclass)
            """, logger: TestDatabase.logger).collect().first!.decode(String.self)
    }
}

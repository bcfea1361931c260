import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Writes product feature-usage events for one tenant (all or nothing) and refreshes the roll-up days
/// they touch, in the tenant's scope; moving the roll-up watermark, so cached report answers of the
/// tenant are not reused (decision 33). A batch is one call of the session function ``function``
/// (architecture decision 62), or the same statements in a scoped transaction where the connection runs those.
public struct FeatureEventStore: Sendable {
    let sessions: ScopedDatabase

    /// The longest a batch waits for a lock, its tenant's derivation lock above all (held by a catch-up, an erasure or a
    /// rebuild, the last two for minutes): then it is refused (55P03, a 503 with `Retry-After`) and gives its tenant-pool
    /// connection back. Without a bound it waited out the statement timeout (30 s), and a busy tenant's batches could
    /// hold every connection of the pool every tenant shares (decision 97).
    static let lockWait = "5s"

    /// Stores the events; an event whose id is already stored is skipped (so a retried batch is harmless).
    /// Returns how many were new.
    public func store(_ events: [FeatureEvent], in scope: TenantScope, logger: Logger) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let values: [BoundStatement.Value] = [
            .uuidArray(events.map(\.id)), .textArray(events.map(\.featureKey)), .textArray(events.map(\.actor)),
            .textArray(events.map { ISO8601Timestamp.formatMicroseconds($0.occurredAt) }),
        ]
        return try await sessions.write(scope, calling: Self.function, values: values, decode: { rows in
            try rows.first?.decode(Int.self) ?? 0
        }, orInTransaction: { connection in
            // The lock first, as a catch-up takes it (decision 83): a batch that waits for it holds no table lock meanwhile,
            // and waits at most the lock wait.
            // Each result read to its end: an error (the lock's wait running out) comes with the rows, not the call.
            try await connection.execute(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = '\(Self.lockWait)'"))
            try await connection.execute("SELECT app.lock_tenant_derivation()")
            var days = Set<String>()
            var inserted = 0
            for try await day in try await connection.query(BoundStatement(sql: Self.insert, values: values)).decode(String.self) {
                days.insert(day)
                inserted += 1
            }
            if !days.isEmpty {
                _ = try await connection.query("SELECT app.refresh_feature_usage_for_days(\(days.sorted())::date[]), app.touch_rollup_watermark()")
                    .collect()
            }
            return inserted
        }, logger: logger)
    }

    /// Inserts the new events and returns each one's day (UTC, `YYYY-MM-DD`): ids, feature keys, actors, times.
    static let insert = """
        INSERT INTO app.feature_events (id, feature_key, actor, occurred_at)
        SELECT i, f, a, o::timestamptz
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS e(i, f, a, o)
        ON CONFLICT (tenant_id, id) DO NOTHING
        RETURNING to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
        """

    /// The batch as one call: the scope for a write, the tenant's derivation lock (before anything is read or written,
    /// so a batch that waits for a catch-up, erasure or rebuild of its tenant holds no table lock meanwhile, as decision
    /// 83 has it for catch-ups), the insert, and, where it stored anything, the refresh of the days it touched and the
    /// watermark, as the transaction runs them. Returns how many were new.
    static let function: SessionFunctions.Function = SessionFunctions.make(
        prefix: "tenantscope_events_", parameterTypes: ["uuid[]", "text[]", "text[]", "text[]"], returns: "int8",
        settings: "SET lock_timeout = '\(lockWait)'", body: """
            DECLARE
              v_inserted int8;
              v_days date[];
            BEGIN
              \(SessionFunctions.scope(contextArgument: 5, write: true))
              PERFORM app.lock_tenant_derivation();
              WITH inserted AS (
            \(insert)
              )
              SELECT count(*), coalesce(array_agg(DISTINCT day::date ORDER BY day::date), '{}') INTO v_inserted, v_days FROM inserted;
              IF cardinality(v_days) > 0 THEN
                PERFORM app.refresh_feature_usage_for_days(v_days), app.touch_rollup_watermark();
              END IF;
              RETURN v_inserted;
            END
            """)
}

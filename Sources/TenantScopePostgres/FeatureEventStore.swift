import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Writes product feature-usage events for one tenant (all or nothing) and refreshes the roll-up days
/// they touch, inside the tenant's scoped transaction; moving the roll-up watermark, so cached report
/// answers of the tenant are not reused (decision 33).
public struct FeatureEventStore: Sendable {
    let sessions: ScopedDatabase

    /// Stores the events; an event whose id is already stored is skipped (so a retried batch is harmless).
    /// Returns how many were new.
    public func store(_ events: [FeatureEvent], in scope: TenantScope, logger: Logger) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        return try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            let rows = try await connection.query("""
                INSERT INTO app.feature_events (id, feature_key, actor, occurred_at)
                SELECT i, f, a, o::timestamptz
                FROM unnest(\(events.map(\.id)), \(events.map(\.featureKey)), \(events.map(\.actor)),
                            \(events.map { ISO8601Timestamp.formatMicroseconds($0.occurredAt) })) AS e(i, f, a, o)
                ON CONFLICT (tenant_id, id) DO NOTHING
                RETURNING to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                """)
            var days = Set<String>()
            var inserted = 0
            for try await day in rows.decode(String.self) {
                days.insert(day)
                inserted += 1
            }
            if !days.isEmpty {
                try await connection.query("SELECT app.lock_tenant_derivation()")
                try await connection.query("SELECT app.refresh_feature_usage_for_days(\(days.sorted())::date[]), app.touch_rollup_watermark()")
            }
            return inserted
        }
    }
}

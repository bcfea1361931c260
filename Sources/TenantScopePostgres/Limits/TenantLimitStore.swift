import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Every tenant's limits as they apply (tier with the tenant's overrides), read by the running server through
/// `app.tenant_limits()`: tenant ids, tier names and numbers only (migration 25).
public struct TenantLimitStore: Sendable {
    let pool: DatabasePool

    public func load(logger: Logger) async throws -> [TenantID: TenantLimits] {
        let rows = try await pool.query("""
            SELECT tenant_id, tier, concurrency, connection_budget, api_rate, api_burst, ingest_rate, ingest_burst
            FROM app.tenant_limits()
            """, logger: logger)
        var limits: [TenantID: TenantLimits] = [:]
        for row in rows {
            let (id, tier, concurrency, budget, apiRate, apiBurst, ingestRate, ingestBurst) =
                try row.decode((UUID, String, Int?, Int?, Double?, Int?, Double?, Int?).self)
            limits[TenantID(id)] = TenantLimits(
                tier: tier, concurrency: concurrency, connectionBudget: budget,
                api: Self.policy(apiRate, apiBurst), ingest: Self.policy(ingestRate, ingestBurst))
        }
        return limits
    }

    static func policy(_ rate: Double?, _ burst: Int?) -> RatePolicy? {
        guard let rate, let burst else { return nil }
        return RatePolicy(perSecond: rate, burst: burst)
    }
}

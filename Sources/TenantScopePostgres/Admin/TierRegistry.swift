import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Tenant tiers and per-tenant limit overrides in `app_private` (migration 25): operator actions from the
/// command line, as the owner role. Running servers pick changes up within their refresh interval.
public struct TierRegistry: Sendable {
    let ownerClient: PostgresClient

    /// A tier as stored: each limit nil when the tier has none of that kind.
    public struct Tier: Sendable, Hashable {
        public var name: String
        public var concurrency: Int?
        public var connectionBudget: Int?
        public var api: RatePolicy?
        public var ingest: RatePolicy?
        public var tenants: Int

        public init(name: String, concurrency: Int? = nil, connectionBudget: Int? = nil, api: RatePolicy? = nil, ingest: RatePolicy? = nil,
                    tenants: Int = 0) {
            self.name = name
            self.concurrency = concurrency
            self.connectionBudget = connectionBudget
            self.api = api
            self.ingest = ingest
            self.tenants = tenants
        }
    }

    /// A tenant's overrides: each nil leaves the tier's limit in force.
    public struct Override: Sendable, Hashable {
        public var concurrency: Int?
        public var api: RatePolicy?
        public var ingest: RatePolicy?

        public init(concurrency: Int? = nil, api: RatePolicy? = nil, ingest: RatePolicy? = nil) {
            self.concurrency = concurrency
            self.api = api
            self.ingest = ingest
        }

        public var isEmpty: Bool { concurrency == nil && api == nil && ingest == nil }
    }

    /// A tier's name: lower-case letters, digits and '-', starting with a letter, at most 32 characters.
    public static func validate(name: String) throws {
        guard name.range(of: #"^[a-z][a-z0-9-]{0,31}\z"#, options: .regularExpression) != nil else {
            throw TenantScopeError.invalidInput("a tier name is 1-32 lower-case letters, digits and '-', starting with a letter; got '\(name)'")
        }
    }

    public func list(logger: Logger) async throws -> [Tier] {
        try await ownerClient.query("""
            SELECT s.name, s.concurrency, s.connection_budget, s.api_rate, s.api_burst, s.ingest_rate, s.ingest_burst,
                   (SELECT count(*) FROM app.tenants t WHERE t.tier = s.name)::bigint
            FROM app_private.tenant_tiers s ORDER BY s.name
            """, logger: logger).collect().map { row in
            let (name, concurrency, budget, apiRate, apiBurst, ingestRate, ingestBurst, tenants) =
                try row.decode((String, Int?, Int?, Double?, Int?, Double?, Int?, Int).self)
            return Tier(name: name, concurrency: concurrency, connectionBudget: budget, api: TenantLimitStore.policy(apiRate, apiBurst),
                        ingest: TenantLimitStore.policy(ingestRate, ingestBurst), tenants: tenants)
        }
    }

    /// Creates the tier or replaces all its limits.
    public func set(_ tier: Tier, logger: Logger) async throws {
        try Self.validate(name: tier.name)
        try Self.check(concurrency: tier.concurrency, budget: tier.connectionBudget, api: tier.api, ingest: tier.ingest)
        try await ownerClient.query("""
            INSERT INTO app_private.tenant_tiers (name, concurrency, connection_budget, api_rate, api_burst, ingest_rate, ingest_burst)
            VALUES (\(tier.name), \(tier.concurrency), \(tier.connectionBudget), \(tier.api?.perSecond), \(tier.api?.burst),
                    \(tier.ingest?.perSecond), \(tier.ingest?.burst))
            ON CONFLICT (name) DO UPDATE SET concurrency = excluded.concurrency, connection_budget = excluded.connection_budget,
              api_rate = excluded.api_rate, api_burst = excluded.api_burst, ingest_rate = excluded.ingest_rate,
              ingest_burst = excluded.ingest_burst, updated_at = now()
            """, logger: logger)
        logger.info("Tier set", metadata: ["tier": "\(tier.name)"])
    }

    /// Removes a tier no tenant is in.
    public func remove(name: String, logger: Logger) async throws {
        let tenants = try await ownerClient.query("SELECT count(*)::bigint FROM app.tenants WHERE tier = \(name)", logger: logger)
            .collect().first?.decode(Int.self) ?? 0
        guard tenants == 0 else {
            throw TenantScopeError.conflict("tier '\(name)' still has \(tenants) tenant(s); move them first with `tenantscope tenant limits SLUG --tier OTHER`")
        }
        let removed = try await ownerClient.query("DELETE FROM app_private.tenant_tiers WHERE name = \(name) RETURNING name", logger: logger)
            .collect().count
        guard removed == 1 else { throw try await unknownTier(name, logger: logger) }
    }

    /// Fails with the list of tiers unless `name` is one.
    public func requireTier(_ name: String, logger: Logger) async throws {
        let found = try await ownerClient.query("SELECT 1 FROM app_private.tenant_tiers WHERE name = \(name)", logger: logger).collect()
        if found.isEmpty { throw try await unknownTier(name, logger: logger) }
    }

    private func unknownTier(_ name: String, logger: Logger) async throws -> TenantScopeError {
        let names = try await list(logger: logger).map(\.name).joined(separator: ", ")
        return .invalidInput("no tier '\(name)'; the tiers are \(names) (add one with `tenantscope tier set NAME ...`)")
    }

    /// Puts a tenant in a tier.
    public func assign(tenant: TenantID, tier: String, logger: Logger) async throws {
        try await requireTier(tier, logger: logger)
        try await ownerClient.query("UPDATE app.tenants SET tier = \(tier) WHERE id = \(tenant.rawValue)", logger: logger)
    }

    /// The tenant's overrides (empty when it has none).
    public func override(of tenant: TenantID, logger: Logger) async throws -> Override {
        guard let row = try await ownerClient.query("""
            SELECT concurrency, api_rate, api_burst, ingest_rate, ingest_burst FROM app_private.tenant_limit_overrides
            WHERE tenant_id = \(tenant.rawValue)
            """, logger: logger).collect().first else { return Override() }
        let (concurrency, apiRate, apiBurst, ingestRate, ingestBurst) = try row.decode((Int?, Double?, Int?, Double?, Int?).self)
        return Override(concurrency: concurrency, api: TenantLimitStore.policy(apiRate, apiBurst),
                        ingest: TenantLimitStore.policy(ingestRate, ingestBurst))
    }

    /// Replaces the tenant's overrides; an empty one removes them, so the tier's limits apply again.
    public func setOverride(_ override: Override, of tenant: TenantID, logger: Logger) async throws {
        try Self.check(concurrency: override.concurrency, budget: nil, api: override.api, ingest: override.ingest)
        if override.isEmpty {
            try await ownerClient.query("DELETE FROM app_private.tenant_limit_overrides WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            return
        }
        try await ownerClient.query("""
            INSERT INTO app_private.tenant_limit_overrides (tenant_id, concurrency, api_rate, api_burst, ingest_rate, ingest_burst)
            VALUES (\(tenant.rawValue), \(override.concurrency), \(override.api?.perSecond), \(override.api?.burst),
                    \(override.ingest?.perSecond), \(override.ingest?.burst))
            ON CONFLICT (tenant_id) DO UPDATE SET concurrency = excluded.concurrency, api_rate = excluded.api_rate,
              api_burst = excluded.api_burst, ingest_rate = excluded.ingest_rate, ingest_burst = excluded.ingest_burst, updated_at = now()
            """, logger: logger)
    }

    /// The same bounds as the tables' CHECKs, as a clear message before the database would refuse.
    static func check(concurrency: Int?, budget: Int?, api: RatePolicy?, ingest: RatePolicy?) throws {
        if let concurrency, !(1...10_000).contains(concurrency) {
            throw TenantScopeError.invalidInput("concurrency takes 1 to 10000, got \(concurrency)")
        }
        if let budget, !(1...10_000).contains(budget) {
            throw TenantScopeError.invalidInput("a connection budget takes 1 to 10000, got \(budget)")
        }
        for (name, policy) in [("API", api), ("ingest", ingest)] {
            guard let policy else { continue }
            guard policy.perSecond > 0, policy.perSecond <= 1_000_000, policy.perSecond.isFinite else {
                throw TenantScopeError.invalidInput("the \(name) rate takes requests per second above 0 and at most 1000000, got \(policy.perSecond)")
            }
            guard (1...1_000_000).contains(policy.burst) else {
                throw TenantScopeError.invalidInput("the \(name) burst takes 1 to 1000000 requests, got \(policy.burst)")
            }
        }
    }
}

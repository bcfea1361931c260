import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Tiers and overrides as the server reads them through `app.tenant_limits()`.
@Suite(.database) struct TierRegistryTests {
    @Test func aTenantsLimitsAreItsTiersWithItsOverridesOnTop() async throws {
        let handle = try TestDatabase.current
        let logger = TestDatabase.logger
        let tier = "tier-" + UUID().uuidString.prefix(8).lowercased()
        try await handle.admin.tiers.set(.init(name: tier, concurrency: 3, connectionBudget: 6, api: RatePolicy(perSecond: 7, burst: 21),
                                               ingest: nil), logger: logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("tier")), name: "Tiered", tier: tier,
                                                           logger: logger)
        let limits = { try await handle.database.tenantLimits.load(logger: logger)[tenant.id] }
        #expect(try await limits() == TenantLimits(tier: tier, concurrency: 3, connectionBudget: 6, api: RatePolicy(perSecond: 7, burst: 21)))

        // An override replaces what it names, a rate together with its burst; the tier's budget stays.
        try await handle.admin.tiers.setOverride(.init(concurrency: 9, ingest: RatePolicy(perSecond: 2, burst: 4)), of: tenant.id, logger: logger)
        #expect(try await limits() == TenantLimits(tier: tier, concurrency: 9, connectionBudget: 6, api: RatePolicy(perSecond: 7, burst: 21),
                                                   ingest: RatePolicy(perSecond: 2, burst: 4)))
        // Moving tiers keeps the override; clearing it brings the tier's limits back.
        try await handle.admin.tiers.assign(tenant: tenant.id, tier: "free", logger: logger)
        let moved = try await limits()
        #expect(moved?.tier == "free" && moved?.concurrency == 9 && moved?.connectionBudget == 4)
        try await handle.admin.tiers.setOverride(.init(), of: tenant.id, logger: logger)
        #expect(try await limits() == TenantLimits(tier: "free", concurrency: 1, connectionBudget: 4, api: RatePolicy(perSecond: 5, burst: 20),
                                                   ingest: RatePolicy(perSecond: 20, burst: 200)))
        // The tier has no tenant left, so it can go.
        try await handle.admin.tiers.remove(name: tier, logger: logger)
        #expect(try await handle.admin.tiers.list(logger: logger).contains { $0.name == tier } == false)
    }

    @Test func anUnknownTierOrATierInUseIsRefusedWithTheTiersThatExist() async throws {
        let handle = try TestDatabase.current
        let logger = TestDatabase.logger
        await #expect {
            try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("tier")), name: "Nope", tier: "platinum", logger: logger)
        } throws: { "\($0)".contains("no tier 'platinum'") && "\($0)".contains("enterprise, free, standard") }
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("tier")), name: "Standard", logger: logger)
        await #expect { try await handle.admin.tiers.assign(tenant: tenant.id, tier: "platinum", logger: logger) } throws: { "\($0)".contains("no tier") }
        await #expect { try await handle.admin.tiers.remove(name: "standard", logger: logger) } throws: { "\($0)".contains("still has") }
        await #expect { try await handle.admin.tiers.set(.init(name: "Bad Name"), logger: logger) } throws: { "\($0)".contains("tier name") }
        await #expect {
            try await handle.admin.tiers.setOverride(.init(api: RatePolicy(perSecond: 0, burst: 1)), of: tenant.id, logger: logger)
        } throws: { "\($0)".contains("API rate") }
        // A name is counted as tenants' CHECK counts it (code points): 150 × "e" + U+0301 is 300, over 200.
        await #expect {
            try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("tier")), name: String(repeating: "e\u{301}", count: 150),
                                                  logger: logger)
        } throws: { ($0 as? TenantScopeError)?.kind == .invalidInput && "\($0)".contains("1-200 characters") }
    }
}

import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The server's in-memory copy of every tenant's limits, on a real database.
@Suite(.database) struct TenantLimitsCacheTests {
    /// A tenant's first requests, arriving together before its limits were ever loaded, all run under its own
    /// limits: the ones after the first share the load the first started. (Answering them the standard
    /// tier's defaults instead let a free tenant's concurrent first requests past its limits.)
    @Test func concurrentFirstRequestsOfATenantShareItsLoadAndGetItsOwnLimits() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let own = RatePolicy(perSecond: 2, burst: 1)
        try await handle.admin.tiers.setOverride(.init(api: own), of: fixture.a.tenant.id, logger: TestDatabase.logger)
        let cache = TenantLimitsCache(store: handle.database.tenantLimits, logger: TestDatabase.logger)
        let answers = await withTaskGroup(of: RatePolicy?.self) { group in
            for _ in 0..<8 {
                group.addTask { await cache.limits(for: fixture.a.tenant.id, logger: TestDatabase.logger).api }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 8 && answers.allSatisfy { $0 == own }, "\(answers)")
    }
}

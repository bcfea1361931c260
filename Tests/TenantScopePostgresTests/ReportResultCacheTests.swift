import Foundation
import Logging
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The tenant-keyed report cache (architecture decision 33): the same question from two tenants, or
/// from two principals with different row attributes, never shares an entry; a moved watermark starts a
/// new one; memory stays within the budget, least recently used out first.
@Suite(.database) struct ReportResultCacheTests {
    static let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "cache-test"])

    func tenant(_ handle: TestDatabase, statements count: Int, seed: UInt64) async throws -> TenantID {
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("cache")), name: "Cache", logger: TestDatabase.logger)
        try await ingest(handle, tenant.id, count: count, seed: seed)
        return tenant.id
    }

    func ingest(_ handle: TestDatabase, _ tenant: TenantID, count: Int, seed: UInt64) async throws {
        let statements = RandomStatements.make(seed: seed, count: count, start: Date().addingTimeInterval(-20 * 86_400), spanDays: 21, host: "cache\(seed).example")
        _ = try await handle.database.statements.store(
            try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: Self.validator), in: tenant.testScope, logger: TestDatabase.logger)
        try await RollupService(database: handle.database, logger: TestDatabase.logger).catchUp(tenant)
    }

    func run(_ runner: ReportRunner, _ tenant: TenantID, _ name: String = "completion_rate_by_course",
             attributes: [String: String] = [:], now: Date = Date()) async throws -> [[ReportCell]] {
        let scope = TenantScope(tenant: tenant, actor: "cache-test", role: .admin, attributes: attributes)
        return try await runner.run(name, in: .tenant(scope), parameters: [], now: now, logger: TestDatabase.logger).rows
    }

    @Test func twoTenantsAskingTheIdenticalQuestionNeverShareAnEntry() async throws {
        let handle = try TestDatabase.current
        let a = try await tenant(handle, statements: 150, seed: 31)
        let b = try await tenant(handle, statements: 40, seed: 32)
        let uncached = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database)
        let cache = ReportResultCache()
        let cached = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database, cache: cache,
                                  watermarks: SameWatermarkForAll(date: Date()))
        let truthA = try await run(uncached, a)
        let truthB = try await run(uncached, b)
        try #require(truthA != truthB, "the two tenants' answers must differ for the test to mean anything")

        #expect(try await run(cached, a) == truthA)
        #expect(try await run(cached, b) == truthB, "tenant B must never receive tenant A's cached answer")
        #expect(cache.count == 2)
        // Both now answer from the cache, each its own.
        #expect(try await run(cached, a) == truthA)
        #expect(try await run(cached, b) == truthB)
        #expect(cache.count == 2)
    }

    @Test func principalsWithDifferentRowAttributesNeverShareAnEntry() async throws {
        let handle = try TestDatabase.current
        let a = try await tenant(handle, statements: 150, seed: 33)
        let uncached = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database)
        let cache = ReportResultCache()
        let cached = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database, cache: cache,
                                  watermarks: SameWatermarkForAll(date: Date()))
        let everyone = try await run(uncached, a)
        let regional = try await run(uncached, a, attributes: ["region": "region-1"])
        try #require(everyone != regional)
        #expect(try await run(cached, a) == everyone)
        #expect(try await run(cached, a, attributes: ["region": "region-1"]) == regional)
        #expect(cache.count == 2)
    }

    @Test func aCatchUpThatChangesTheTenantStartsANewEntry() async throws {
        let handle = try TestDatabase.current
        let a = try await tenant(handle, statements: 60, seed: 34)
        let cache = ReportResultCache()
        let cached = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database, cache: cache,
                                  watermarks: RollupWatermarks(pool: handle.database.pool, refreshInterval: .zero))
        let before = try await run(cached, a)
        #expect(try await run(cached, a) == before)
        #expect(cache.count == 1)

        try await ingest(handle, a, count: 120, seed: 35)
        let uncached = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database)
        let truth = try await run(uncached, a)
        try #require(truth != before)
        #expect(try await run(cached, a) == truth, "the catch-up moved the watermark: the old answer is not reused")
        #expect(cache.count == 2)
    }

    /// A new UTC day starts new entries: `active_learners` counts its window back from the database's `current_date`
    /// and has no date among its parameters, and nothing moves a quiet tenant's watermark at midnight, so yesterday's
    /// answer, keyed without the day, was served all the next day.
    @Test func aNewDayStartsNewEntries() async throws {
        let handle = try TestDatabase.current
        let a = try await tenant(handle, statements: 60, seed: 36)
        let cache = ReportResultCache()
        let cached = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database, cache: cache,
                                  watermarks: SameWatermarkForAll(date: Date()))
        let noon = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 + 43_200)
        _ = try await run(cached, a, "active_learners", now: noon)
        _ = try await run(cached, a, "active_learners", now: noon.addingTimeInterval(3_600))
        #expect(cache.count == 1, "the same day's question is answered from the cache")
        _ = try await run(cached, a, "active_learners", now: noon.addingTimeInterval(86_400))
        #expect(cache.count == 2, "the next day's question was answered with the day before's entry")
    }

    /// A cluster that cannot answer holds up only its own tenants (decision 49): the watermarks load per cluster, so a
    /// tenant of the pool still gets its watermark (and its answers a cache) while a dedicated cluster is down. Loaded
    /// as one, a down cluster failed the load for every tenant, and every cached report first waited out its timeout.
    @Test func aClusterThatCannotAnswerHoldsUpOnlyItsOwnTenants() async throws {
        let handle = try TestDatabase.current
        let a = try await tenant(handle, statements: 30, seed: 37)
        let expected = try #require(try await handle.database.pool.query(
            "SELECT refreshed_at FROM app.rollup_watermarks() WHERE tenant_id = \(a.rawValue)", logger: TestDatabase.logger
        ).first?.decode(Date.self))
        // A cluster whose server refuses every connection.
        let down = DatabaseEndpoint(host: "127.0.0.1", port: 1, username: "nobody", password: "none", database: "none", tls: .disable)
        let client = PostgresClient(configuration: down.clientConfiguration(maximumConnections: 1), backgroundLogger: TestDatabase.logger)
        let downPool = DatabasePool(client: client, acquireTimeout: .seconds(2), logger: TestDatabase.logger)
        let running = Task { try await downPool.service.run() }
        defer { running.cancel() }
        let pool = handle.database.pool
        let downName = try ClusterName("down")
        let watermarks = RollupWatermarks(refreshInterval: .seconds(60)) { [(.pool, pool), (downName, downPool)] }
        #expect(await watermarks.watermark(of: a, logger: TestDatabase.logger) == expected)
        #expect(await watermarks.watermark(of: TenantID(UUID()), logger: TestDatabase.logger) == nil,
                "a tenant no cluster answers for has no watermark")
        #expect(await watermarks.watermark(of: a, logger: TestDatabase.logger) == expected, "the pool's snapshot answers for its interval")
    }

    @Test func memoryStaysWithinTheBudgetLeastRecentlyUsedFirst() {
        func key(_ n: Int) -> ReportResultCache.Key {
            .init(tenant: TenantID(UUID()), attributes: [:], report: "r\(n)", parameters: [:], day: "2026-12-07",
                  watermark: Date(timeIntervalSince1970: 0))
        }
        let rows: [[ReportCell]] = (0..<20).map { [.text(String(repeating: "x", count: 100)), .integer($0)] }
        let one = ReportResultCache.estimatedBytes(of: rows, key: key(0))
        let cache = ReportResultCache(maximumBytes: one * 4 + one / 2)
        let keys = (0..<5).map(key)
        for k in keys[..<4] { cache.store(rows, for: k) }
        #expect(cache.rows(for: keys[0]) == rows, "touching the oldest makes it the most recent")
        cache.store(rows, for: keys[4])
        #expect(cache.count == 4)
        #expect(cache.rows(for: keys[1]) == nil, "the least recently used entry went")
        for k in [keys[0], keys[2], keys[3], keys[4]] { #expect(cache.rows(for: k) != nil) }
        // An answer bigger than a quarter of the budget is not kept.
        cache.store(rows + rows, for: key(9))
        #expect(cache.count == 4)
    }
}

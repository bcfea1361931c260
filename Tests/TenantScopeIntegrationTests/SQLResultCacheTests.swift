import Foundation
import Logging
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Ad-hoc SQL results share the report cache (decision 33): two tenants running the identical text never
/// share an entry, and a cached answer is still an audit row.
@Suite(.database) struct SQLResultCacheTests {
    @Test func twoTenantsRunningTheIdenticalSQLNeverShareAnEntry() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let cache = ReportResultCache()
        let service = GuardedSQLService(database: handle.database, cache: cache, watermarks: SameWatermarkForAll(date: Date()))
        let sql = "SELECT object_id FROM statements ORDER BY object_id"
        func run(_ member: TwoTenants.Member) async throws -> String {
            let scope = TenantScope(tenant: member.tenant.id, actor: "cache-test", role: .analyst)
            let result = try await service.run(sql, in: scope, surface: "api", logger: TestDatabase.logger)
            return result.rows.map { $0.map(\.description).joined(separator: ",") }.joined(separator: "\n")
        }
        let a = try await run(fixture.a)
        let b = try await run(fixture.b)
        #expect(a.contains(fixture.a.canary) && !a.contains(fixture.b.canary))
        #expect(b.contains(fixture.b.canary) && !b.contains(fixture.a.canary), "tenant B must never receive tenant A's cached rows")
        #expect(cache.count == 2)

        // Asked again, each tenant gets its own answer from the cache, and the run is audited as cached.
        #expect(try await run(fixture.a) == a)
        #expect(try await run(fixture.b) == b)
        #expect(cache.count == 2)
        let audit = try await handle.admin.auditTrail.tail(limit: 50, logger: TestDatabase.logger)
            .filter { $0.entry.action == "sql_query" && $0.entry.scopeTenant == fixture.b.tenant.id }
        #expect(audit.count == 2)
        #expect(audit.last?.entry.parameters["cached"] == "true" && audit.last?.entry.rowCount == 1)
    }

    /// A query whose answer can change while the data stays the same (it reads the clock, in any of its spellings, or
    /// calls random()) is never cached: `now() - interval '1 hour'` would otherwise stay frozen until the tenant's
    /// roll-ups next change, hours for a quiet tenant. One that reads neither is.
    @Test func aQueryThatReadsTheClockIsNeverCached() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let scope = TenantScope(tenant: fixture.a.tenant.id, actor: "cache-test", role: .analyst)
        let varying = [
            "SELECT count(*) FROM statements WHERE stored_at > now() - interval '1 hour'",
            "SELECT count(*) FROM statements WHERE stored_at > pg_catalog.clock_timestamp() - interval '1 hour'",
            "SELECT count(*) FROM statements WHERE stored_at::date = CURRENT_DATE",
            "SELECT count(*) FROM statements WHERE stored_at > LOCALTIMESTAMP - interval '1 day'",
            "SELECT count(*) FROM statements WHERE stored_at::date = 'today'::date",
            "SELECT count(*) FROM statements WHERE stored_at::date >= date ' Yesterday'",
            "SELECT age(stored_at)::text AS age FROM statements",
            "SELECT random() AS r",
        ]
        for sql in varying {
            let cache = ReportResultCache()
            let service = GuardedSQLService(database: handle.database, cache: cache, watermarks: SameWatermarkForAll(date: Date()))
            for _ in 1...2 { _ = try await service.run(sql, in: scope, surface: "api", logger: TestDatabase.logger) }
            #expect(cache.count == 0, "cached: \(sql)")
        }
        let cache = ReportResultCache()
        let service = GuardedSQLService(database: handle.database, cache: cache, watermarks: SameWatermarkForAll(date: Date()))
        _ = try await service.run("SELECT count(*) FROM statements WHERE stored_at > '2020-01-01'::date", in: scope, surface: "api",
                                  logger: TestDatabase.logger)
        #expect(cache.count == 1, "a query that reads no clock is cached")
    }
}

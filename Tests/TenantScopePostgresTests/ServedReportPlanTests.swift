import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The plans the served `active_learners` report's functions keep for every call (migration 41, architecture
/// decision 70), and what they read (migration 42, decision 72). Its own database: the planner's choice rests on the
/// statistics of `app.statements`, which here hold this suite's tenants only.
@Suite(.freshDatabase) struct ServedReportPlanTests {
    /// Today's learners outside the roll-ups are found from the statements stored after the tenant's watermark. The
    /// function's generic plan cannot see the watermark; it must still read those few rows through the
    /// `(tenant_id, stored)` index, not the whole of today through the timestamp index. The tenant has 20,000
    /// statements over 100 days, 200 of them today, all behind the watermark, and three new ones today after it.
    /// Comparing today through the timestamp column (as migration 32 did) makes the generic plan take the timestamp
    /// index, and this test fail.
    @Test func todaysLearnersOutsideTheRollupsAreReadThroughTheStoredIndex() async throws {
        let handle = try TestDatabase.current
        let slug = try TenantSlug(TwoTenants.uniqueSlug("plans"))
        let tenant = try await handle.admin.tenants.create(slug: slug, name: "Served report plans", logger: TestDatabase.logger).id
        try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            // Every 100th statement (i % 100 = 50) is today's; the newest (i = 1) was stored two days ago, and
            // today's were stored at least 49 minutes before it, outside the catch-up's overlap of 10 minutes.
            try await c.query("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp", stored)
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:learner' || (i % 500) || '@plans.example', 'v', 'o',
                       CASE WHEN i % 100 = 50 THEN current_date::timestamp AT TIME ZONE 'UTC' + interval '1 minute'
                            ELSE now() - (1 + i % 100) * interval '1 day' END,
                       now() - interval '2 days' - i * interval '1 minute'
                FROM generate_series(1, 20000) i
                """)
            try await c.query("SELECT app.catch_up_rollups('10 minutes', true)")
            try await c.query("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp")
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:new' || n || '@plans.example', 'v', 'o',
                       current_date::timestamp AT TIME ZONE 'UTC' + interval '1 minute'
                FROM generate_series(1, 3) n
                """)
        }
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            _ = try await connection.query("ANALYZE app.statements", logger: TestDatabase.logger).collect()
        }
        let (recent, newFound, storedScans, timestampScans) = try await handle.database.sessions.run(
            tenant.testScope, logger: TestDatabase.logger
        ) { c in
            let outside = try await c.query("""
                SELECT cardinality(o.recent),
                       (SELECT count(*)::int FROM generate_series(1, 3) n
                        WHERE app.learner_key('mbox:mailto:new' || n || '@plans.example') = ANY (o.recent))
                FROM app.todays_learners_outside_rollups(interval '10 minutes') o
                """).collect().first!.decode((Int, Int).self)
            // This transaction's own index scans, counted by the statistics collector before they are reported.
            let scans = try await c.query("""
                SELECT pg_stat_get_xact_numscans('app.statements_tenant_stored'::regclass)::int,
                       pg_stat_get_xact_numscans('app.statements_tenant_timestamp'::regclass)::int
                """).collect().first!.decode((Int, Int).self)
            return (outside.0, outside.1, scans.0, scans.1)
        }
        #expect(recent == 3 && newFound == 3, "today's learners outside the roll-ups: \(recent), the new ones among them: \(newFound)")
        #expect(storedScans > 0, "the stored index was not read")
        #expect(timestampScans == 0, "the timestamp index was read \(timestampScans) time(s)")
    }

    /// The window's distinct learners are counted from one row per last active day (migration 42), not from one index
    /// entry per learner: 2,000 learners active over the last ten days, and the count reads none of their entries in
    /// the active days' `(tenant_id, last_day)` index. Counting them there again (migration 32's count) reads 2,000,
    /// and this test fails.
    @Test func theWindowsLearnersAreCountedByDayNotOneByOne() async throws {
        let handle = try TestDatabase.current
        let slug = try TenantSlug(TwoTenants.uniqueSlug("window"))
        let tenant = try await handle.admin.tenants.create(slug: slug, name: "Window count", logger: TestDatabase.logger).id
        try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.query("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp", stored)
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:learner' || i || '@window.example', 'v', 'o',
                       now() - (1 + i % 10) * interval '1 day', now() - interval '1 hour'
                FROM generate_series(1, 2000) i
                """)
            try await c.query("SELECT app.catch_up_rollups('10 minutes', true)")
        }
        let (windowLearners, entriesRead) = try await handle.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { c in
            let totals = try await c.query("SELECT t.window_learners::int FROM app.active_learner_totals(30, interval '10 minutes') t")
                .collect().first!.decode(Int.self)
            let read = try await c.query("SELECT pg_stat_get_xact_tuples_returned('app.learner_active_days_tenant_last_day'::regclass)::int")
                .collect().first!.decode(Int.self)
            return (totals, read)
        }
        #expect(windowLearners == 2000)
        #expect(entriesRead < 100, "the window count read \(entriesRead) entries of the active days' last-day index")
    }
}

import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The plans the served `active_learners` report's functions keep for every call (migration 41, architecture
/// decision 70), and what they read (migrations 42 and 43, decisions 72 and 73). Its own database: the planner's choice rests on the
/// statistics of `app.statements`, which here hold this suite's tenants only.
@Suite(.freshDatabase) struct ServedReportPlanTests {
    /// The learners whose row of today the roll-ups may not hold yet are the queued ones (migration 43): with the
    /// roll-ups current, finding them reads no statement, however recently the tenant's statements were stored. The
    /// tenant has 2,000 statements of today stored in the last five minutes, all caught up, and then three new learners
    /// ingested today (queued, not caught up). Reading the statements stored after the watermark less its overlap (as
    /// migrations 32 and 41 did) reads them, and this test fails.
    @Test func todaysPendingLearnersComeFromTheQueueNotTheStatements() async throws {
        let handle = try TestDatabase.current
        let slug = try TenantSlug(TwoTenants.uniqueSlug("plans"))
        let tenant = try await handle.admin.tenants.create(slug: slug, name: "Served report plans", logger: TestDatabase.logger).id
        try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.query("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp", stored)
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:learner' || (i % 500) || '@plans.example', 'v', 'o',
                       current_date::timestamp AT TIME ZONE 'UTC', now() - i * interval '100 milliseconds'
                FROM generate_series(1, 2000) i
                """)
            try await c.query("SELECT app.catch_up_rollups('10 minutes', true)")
        }
        try await Self.ingest((1...3).map { n in
            #"{"actor":{"mbox":"mailto:new\#(n)@plans.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://plans.example/lesson"},"timestamp":"\#(ISO8601Timestamp.format(Date()))"}"#
        }, into: tenant)
        let (pending, active, newFound, statementsRead) = try await handle.database.sessions.run(
            tenant.testScope, logger: TestDatabase.logger
        ) { c in
            let today = try await c.query("""
                SELECT cardinality(p.pending), cardinality(p.active),
                       (SELECT count(*)::int FROM generate_series(1, 3) n
                        WHERE app.learner_key('mbox:mailto:new' || n || '@plans.example') = ANY (p.active))
                FROM app.learners_pending_today() p
                """).collect().first!.decode((Int, Int, Int).self)
            // This transaction's own reads of the table, counted by the statistics collector before they are reported.
            let read = try await c.query("""
                SELECT (pg_stat_get_xact_numscans('app.statements'::regclass) + pg_stat_get_xact_tuples_returned('app.statements'::regclass)
                        + pg_stat_get_xact_tuples_fetched('app.statements'::regclass))::int
                """).collect().first!.decode(Int.self)
            return (today.0, today.1, today.2, read)
        }
        #expect(pending == 3 && active == 3 && newFound == 3, "pending \(pending), active \(active), the new ones among them \(newFound)")
        #expect(statementsRead == 0, "finding today's pending learners read app.statements (\(statementsRead) scans and rows)")
    }

    /// A day queued whole (a writer that cannot say what changed) is read from today's statements: every learner of
    /// today is pending. A learner whose only statement of today is deleted raw, with the day queued whole, is no longer
    /// active though its roll-up row still counts it; taking only the queued counts leaves it active, and this test
    /// fails.
    @Test func aDayQueuedWholeIsReadFromTodaysStatements() async throws {
        let handle = try TestDatabase.current
        let slug = try TenantSlug(TwoTenants.uniqueSlug("whole"))
        let tenant = try await handle.admin.tenants.create(slug: slug, name: "Whole day", logger: TestDatabase.logger).id
        let (pending, active, goneActive) = try await handle.database.sessions.run(
            tenant.testScope, access: .readWrite, logger: TestDatabase.logger
        ) { c in
            try await c.query("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp")
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:learner' || i || '@whole.example', 'v', 'o',
                       current_date::timestamp AT TIME ZONE 'UTC' + interval '1 minute'
                FROM generate_series(1, 5) i
                """)
            try await c.query("SELECT app.catch_up_rollups('10 minutes', true)")
            try await c.query("DELETE FROM app.statements WHERE actor_key = 'mbox:mailto:learner1@whole.example'")
            try await c.query("INSERT INTO app.rollup_queue (day) VALUES (current_date)")
            return try await c.query("""
                SELECT cardinality(p.pending), cardinality(p.active),
                       app.learner_key('mbox:mailto:learner1@whole.example') = ANY (p.active)
                FROM app.learners_pending_today() p
                """).collect().first!.decode((Int, Int, Bool).self)
        }
        #expect(pending == 5 && active == 4 && !goneActive, "pending \(pending), active \(active), the deleted learner active: \(goneActive)")
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
            let totals = try await c.query("SELECT t.window_learners::int FROM app.active_learner_totals(30) t")
                .collect().first!.decode(Int.self)
            let read = try await c.query("SELECT pg_stat_get_xact_tuples_returned('app.learner_active_days_tenant_last_day'::regclass)::int")
                .collect().first!.decode(Int.self)
            return (totals, read)
        }
        #expect(windowLearners == 2000)
        #expect(entriesRead < 100, "the window count read \(entriesRead) entries of the active days' last-day index")
    }

    static func ingest(_ statements: [String], into tenant: TenantID) async throws {
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "plan-test"])
        let prepared = try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: validator)
        _ = try await TestDatabase.current.database.statements.store(prepared, in: tenant.testScope, logger: TestDatabase.logger)
    }
}

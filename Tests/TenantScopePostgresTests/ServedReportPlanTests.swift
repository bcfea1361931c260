import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The plans the served `active_learners` report's functions keep for every call (migration 41, architecture
/// decision 70), what the served reports read (decisions 72 to 74), and the plans they keep themselves (decision 75).
/// Its own database: the planner's choice rests on the statistics of the tables, which here hold this suite's tenants
/// only.
@Suite(.freshDatabase) struct ServedReportPlanTests {
    /// The learners whose row of today the roll-ups may not hold yet are the queued ones (migration 43): with the
    /// roll-ups current, finding them reads no statement, however recently the tenant's statements were stored. The
    /// tenant has 2,000 statements of today stored in the last five minutes, all caught up, and then three new learners
    /// ingested today (queued, not caught up). Reading the statements stored after the watermark less its overlap (as
    /// migrations 32 and 41 did) reads them, and this test fails.
    @Test func todaysPendingLearnersComeFromTheQueueNotTheStatements() async throws {
        let handle = try TestDatabase.current
        let tenant = try await TwoTenants.empty(handle, "plans", name: "Served report plans").id
        try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp", stored)
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:learner' || (i % 500) || '@plans.example', 'v', 'o',
                       current_date::timestamp AT TIME ZONE 'UTC', now() - i * interval '100 milliseconds'
                FROM generate_series(1, 2000) i
                """)
            try await c.execute("SELECT app.catch_up_rollups('10 minutes', true)")
        }
        try await Self.ingest((1...3).map { n in
            #"{"actor":{"mbox":"mailto:new\#(n)@plans.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://plans.example/lesson"},"timestamp":"\#(ISO8601Timestamp.format(Date()))"}"#
        }, into: tenant)
        let (pending, active, newFound, statementsRead) = try await handle.database.sessions.run(
            tenant.testScope, logger: TestDatabase.logger
        ) { c in
            let (today, read) = try await Self.difference(in: Self.readsOf("app.statements"), on: c) {
                try await c.query("""
                    SELECT cardinality(p.pending), cardinality(p.active),
                           (SELECT count(*)::int FROM generate_series(1, 3) n
                            WHERE app.learner_key('mbox:mailto:new' || n || '@plans.example') = ANY (p.active))
                    FROM app.learners_pending_today() p
                    """).collect().first!.decode((Int, Int, Int).self)
            }
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
        let tenant = try await TwoTenants.empty(handle, "whole", name: "Whole day").id
        let (pending, active, goneActive) = try await handle.database.sessions.run(
            tenant.testScope, access: .readWrite, logger: TestDatabase.logger
        ) { c in
            try await c.execute("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp")
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:learner' || i || '@whole.example', 'v', 'o',
                       current_date::timestamp AT TIME ZONE 'UTC' + interval '1 minute'
                FROM generate_series(1, 5) i
                """)
            try await c.execute("SELECT app.catch_up_rollups('10 minutes', true)")
            try await c.execute("DELETE FROM app.statements WHERE actor_key = 'mbox:mailto:learner1@whole.example'")
            try await c.execute("INSERT INTO app.rollup_queue (day) VALUES (current_date)")
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
        let tenant = try await TwoTenants.empty(handle, "window", name: "Window count").id
        try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp", stored)
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:learner' || i || '@window.example', 'v', 'o',
                       now() - (1 + i % 10) * interval '1 day', now() - interval '1 hour'
                FROM generate_series(1, 2000) i
                """)
            try await c.execute("SELECT app.catch_up_rollups('10 minutes', true)")
        }
        let (windowLearners, entriesRead) = try await handle.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { c in
            try await Self.difference(in: "pg_stat_get_xact_tuples_returned('app.learner_active_days_tenant_last_day'::regclass)", on: c) {
                try await c.query("SELECT t.window_learners::int FROM app.active_learner_totals(30) t").collect().first!.decode(Int.self)
            }
        }
        #expect(windowLearners == 2000)
        #expect(entriesRead < 100, "the window count read \(entriesRead) entries of the active days' last-day index")
    }

    /// The course reports read the current month, today included, from its monthly sums (decisions 74 and 77): no daily
    /// outcome row and no enrollment, whatever the day of the month and the hour of the day. The tenant has 20 daily
    /// outcome rows of one course on every day of the current month before today and 5 today. Reading the month's
    /// earlier days from the daily roll-up (before decision 74) reads 20 rows per day; taking today's rows out of the
    /// sums and reading today's enrollments instead (before decision 77) reads today's 5 rows and, the tenant having no
    /// enrollments, answers without them: this test fails (checked).
    @Test func theCourseReportsReadTheCurrentMonthFromItsSums() async throws {
        let handle = try TestDatabase.current
        let tenant = try await TwoTenants.empty(handle, "month", name: "Current month").id
        let earlierDays = try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("INSERT INTO app.courses (course_iri, title) VALUES ('https://month.example/course', 'Course')")
            try await c.execute("""
                INSERT INTO app.daily_enrollment_outcomes (day, course_id, cohort, region, days_to_complete, enrollments)
                SELECT d::date, (SELECT id FROM app.courses), 'cohort-a', NULL, n, 1
                FROM generate_series(date_trunc('month', current_date::timestamp), current_date - 1, interval '1 day') d,
                     generate_series(0, 19) n
                UNION ALL
                SELECT current_date, (SELECT id FROM app.courses), 'cohort-a', NULL, n, 1 FROM generate_series(0, 4) n
                """)
            return try await c.query("SELECT (current_date - date_trunc('month', current_date::timestamp)::date)::int")
                .collect().first!.decode(Int.self)
        }
        let (rows, dailyRowsRead, enrollmentsRead) = try await Self.servedCompletionRates(of: tenant, parameters: [])
        let enrolled = 20 * earlierDays + 5
        #expect(rows == [[.text("Course"), .integer(enrolled), .integer(enrolled), .number(1)]])
        #expect(dailyRowsRead == 0, "the served report read \(dailyRowsRead) daily outcome rows")
        #expect(enrollmentsRead == 0, "the served report read \(enrollmentsRead) enrollments")
    }

    /// A partial first month of the window is read from its shorter side (decision 74): the days from `since` on, or the
    /// month's sum less the days before `since`. The tenant has 20 daily outcome rows on every day of the month two
    /// months back; `since` is its 3rd (two days before, the sum less them is read) or its 26th (the few days from it
    /// on are read). Reading the days from `since` on whatever the day (as before) reads 20 rows for each of the month's
    /// last 29 or so days from the 3rd, and this test fails (checked). A second course has 20 rows on the month's first
    /// day only: from the 3rd its sum less them cancels out, and the report must leave it out, not divide by zero.
    @Test(arguments: [3, 26]) func aPartialFirstMonthIsReadFromItsShorterSide(sinceDay: Int) async throws {
        let handle = try TestDatabase.current
        let tenant = try await TwoTenants.empty(handle, "first", name: "First month").id
        let (since, headDays, tailDays) = try await handle.database.sessions.run(
            tenant.testScope, access: .readWrite, logger: TestDatabase.logger
        ) { c in
            try await c.execute("""
                INSERT INTO app.courses (course_iri, title)
                VALUES ('https://first.example/course', 'Course'), ('https://first.example/early', 'Early')
                """)
            return try await c.query("""
                WITH month AS (SELECT (date_trunc('month', current_date::timestamp) - interval '2 months')::date AS first),
                inserted AS (
                  INSERT INTO app.daily_enrollment_outcomes (day, course_id, cohort, region, days_to_complete, enrollments)
                  SELECT d::date, (SELECT id FROM app.courses WHERE title = 'Course'), 'cohort-a', NULL, n, 1
                  FROM month, generate_series(month.first::timestamp, month.first + interval '1 month' - interval '1 day', interval '1 day') d,
                       generate_series(0, 19) n
                  UNION ALL
                  SELECT month.first, (SELECT id FROM app.courses WHERE title = 'Early'), 'cohort-a', NULL, n, 1
                  FROM month, generate_series(0, 19) n
                )
                SELECT to_char(month.first + \(sinceDay - 1)::int, 'YYYY-MM-DD'), \(sinceDay - 1)::int,
                       ((month.first + interval '1 month')::date - (month.first + \(sinceDay - 1)::int))::int
                FROM month
                """).collect().first!.decode((String, Int, Int).self)
        }
        let (rows, dailyRowsRead, _) = try await Self.servedCompletionRates(of: tenant, parameters: [("since", since)])
        let enrolled = 20 * tailDays
        #expect(rows == [[.text("Course"), .integer(enrolled), .integer(enrolled), .number(1)]], "since \(since)")
        // The early course's rows are among the days before `since` when those are read.
        let expectedRows = headDays < tailDays ? 20 * headDays + 20 : 20 * tailDays
        #expect(dailyRowsRead == expectedRows, "since \(since): \(dailyRowsRead) daily outcome rows read")
    }

    /// Read from the sums over all courses (migration 45), a partial first month's days taken out carry no course either,
    /// so they cancel in the group of the month's sum: a cohort, or a day count, whose enrollments all came before `since`
    /// is left out, as it would be absent without the sums. The tenant has 20 outcome rows (cohort `cohort-a`, 0–19 days
    /// to complete) on every day of the month two months back, and one of 20 enrollments (cohort `cohort-early`, 50 days)
    /// on its first day only; `since` is its 3rd, so the month's sum less its first two days is read. With the days' own
    /// courses (a taken-out day in a group of its own) the early cohort came out with no enrollment, its rate a division
    /// by zero, and the time-to-complete report showed a bucket of 0 completions at 50 days (both checked).
    @Test func aDayTakenOutOfTheSumsOverAllCoursesCancelsInItsOwnGroup() async throws {
        let handle = try TestDatabase.current
        let tenant = try await TwoTenants.empty(handle, "allcourses", name: "All courses").id
        let (since, tailDays) = try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("INSERT INTO app.courses (course_iri, title) VALUES ('https://allcourses.example/course', 'Course')")
            return try await c.query("""
                WITH month AS (SELECT (date_trunc('month', current_date::timestamp) - interval '2 months')::date AS first),
                inserted AS (
                  INSERT INTO app.daily_enrollment_outcomes (day, course_id, cohort, region, days_to_complete, enrollments)
                  SELECT d::date, (SELECT id FROM app.courses), 'cohort-a', NULL, n, 1
                  FROM month, generate_series(month.first::timestamp, month.first + interval '1 month' - interval '1 day', interval '1 day') d,
                       generate_series(0, 19) n
                  UNION ALL
                  SELECT month.first, (SELECT id FROM app.courses), 'cohort-early', NULL, 50, 20 FROM month
                )
                SELECT to_char(month.first + 2, 'YYYY-MM-DD'), ((month.first + interval '1 month')::date - (month.first + 2))::int
                FROM month
                """).collect().first!.decode((String, Int).self)
        }
        let enrolled = 20 * tailDays
        let (times, dailyRowsRead, _) = try await Self.served(StandardReports.timeToComplete, of: tenant,
                                                              parameters: [("since", since), ("bucket_days", "1")])
        #expect(times == (0..<20).map { [.integer($0), .integer($0 + 1), .integer(tailDays)] })
        #expect(dailyRowsRead == 2 * 20 + 1, "\(dailyRowsRead) daily outcome rows read, not the two days before `since`")
        let (cohorts, _, _) = try await Self.served(StandardReports.cohortComparison, of: tenant, parameters: [("since", since)])
        #expect(cohorts == [[.text("cohort-a"), .integer(enrolled), .integer(enrolled), .number(1), .null, .integer(1)]])
    }

    /// The plan a served course report keeps for every run (decision 75) groups the outcomes once. A generic plan
    /// estimates about one row per source; without the `MATERIALIZED` fence on the groups it joined the courses outside
    /// and grouped the outcomes again for each course, and this test fails (checked: the grouping ran once per course).
    /// The groups are the courses alone, the one thing `completion_rate_by_course` shows. The tenant has six courses with
    /// outcomes on each of the last 70 days.
    @Test func theKeptPlanOfACourseReportGroupsTheOutcomesOnce() async throws {
        let handle = try TestDatabase.current
        let tenant = try await TwoTenants.empty(handle, "kept", name: "Kept plan").id
        try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("""
                INSERT INTO app.courses (course_iri, title) SELECT 'https://kept.example/course' || i, 'Course ' || i FROM generate_series(1, 6) i
                """)
            try await c.execute("""
                INSERT INTO app.daily_enrollment_outcomes (day, course_id, cohort, region, days_to_complete, enrollments)
                SELECT d::date, c.id, 'cohort-' || (n % 2), NULL, nullif(n, 0), 1
                FROM generate_series(current_date - 70, current_date - 1, interval '1 day') d, app.courses c, generate_series(0, 3) n
                """)
        }
        let (nodes, generic) = try await Self.keptPlan(of: StandardReports.completionRateByCourse, tenant: tenant, parameters: [])
        #expect(generic, "the plan was made for the run's values, not kept for every run")
        let grouping = nodes.filter {
            $0["Node Type"] as? String == "Aggregate" && ($0["Group Key"] as? [String] ?? []).contains { $0.hasSuffix("course_id") }
        }
        #expect(!grouping.isEmpty, "no node groups the outcomes by course")
        #expect(grouping.allSatisfy { $0["Actual Loops"] as? Int == 1 },
                "the outcomes were grouped \(grouping.map { $0["Actual Loops"] as? Int ?? 0 }) times")
        // By the course alone: the report shows no cohort and no day count, so the sort compares none.
        #expect(grouping.allSatisfy { ($0["Group Key"] as? [String])?.count == 1 }, "\(grouping.map { $0["Group Key"] ?? "" })")
    }

    /// The filters a served course report can get, for the test below.
    enum SumsFilter: String, CaseIterable, CustomTestStringConvertible {
        case none, course, region
        var testDescription: String { rawValue }
    }

    /// The course reports read their whole months from the narrowest monthly sums their filters allow: with a region
    /// filter the sums by region (migration 30); without one, the sums over all regions (migration 44, decision 76); for
    /// the cohort and time-to-complete reports, which show no course, without a course filter either, the sums over all
    /// courses (migration 45, decision 78). Each from its index alone without a region filter, and never another of the
    /// tables. The tenant has outcomes in two regions and without one on each of the last 100 days, so the kept plan's
    /// whole months are summed. Reading the sums by region without a filter, the sums over all regions without any filter
    /// (as before migration 45), or keeping the counts out of the index (no index-only scan) fails this test (each
    /// checked). The tables here are a few pages, which a sequential scan reads as cheaply as their index, so the plan is
    /// made without sequential and bitmap scans: of an index scan and an index-only scan, the planner takes the second
    /// whenever the index holds the counts (with sequential scans allowed, the plan read one of them in one run of a few).
    /// How many heap pages the scan still visits depends on the visibility map, which a vacuum sets only when no
    /// transaction of the database could still need the rows' old versions (other tests run meanwhile), so it is not
    /// checked.
    @Test(arguments: [StandardReports.completionRateByCourse, StandardReports.cohortComparison, StandardReports.timeToComplete],
          SumsFilter.allCases)
    func theCourseReportsReadTheNarrowestSumsTheirFiltersAllow(definition: ReportDefinition, filter: SumsFilter) async throws {
        let handle = try TestDatabase.current
        let tenant = try await TwoTenants.empty(handle, "sums", name: "Narrowest sums").id
        try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("""
                INSERT INTO app.courses (course_iri, title) SELECT 'https://sums.example/course' || i, 'Course ' || i FROM generate_series(1, 3) i
                """)
            try await c.execute("""
                INSERT INTO app.daily_enrollment_outcomes (day, course_id, cohort, region, days_to_complete, enrollments)
                SELECT d::date, c.id, 'cohort-' || (n % 2), r.region, nullif(n, 0), 1
                FROM generate_series(current_date - 100, current_date - 1, interval '1 day') d, app.courses c, generate_series(0, 3) n,
                     (VALUES ('north'), ('south'), (NULL)) AS r(region)
                """)
        }
        let times = definition.name == "time_to_complete"
        let byRegion = times ? "monthly_completion_times" : "monthly_course_outcomes"
        let allRegions = times ? "monthly_completion_times_all_regions" : "monthly_course_outcomes_all_regions"
        let allCourses = definition.name == "completion_rate_by_course" ? nil
            : times ? "monthly_completion_times_all_courses" : "monthly_cohort_outcomes_all_courses"
        let tables = [byRegion, allRegions] + (allCourses.map { [$0] } ?? [])
        try await PreparedStatementTests.owner(handle, PostgresQuery(unsafeSQL: "ANALYZE " + tables.map { "app.\($0)" }.joined(separator: ", ")))
        let (nodes, generic) = try await Self.keptPlan(of: definition, tenant: tenant,
                                                       parameters: filter == .course ? [("course", "Course 2")] : [],
                                                       attributes: filter == .region ? ["region": "north"] : [:],
                                                       indexReadsOnly: true)
        #expect(generic, "the plan was made for the run's values, not kept for every run")
        let read = switch filter {
        case .region: byRegion
        case .course: allRegions
        case .none: allCourses ?? allRegions
        }
        let reads = nodes.filter { $0["Relation Name"] as? String == read }
        #expect(!reads.isEmpty && reads.allSatisfy { $0["Actual Loops"] as? Int == 1 && $0["Actual Rows"] as? Int ?? 0 > 0 },
                "\(definition.name): \(read) was not read: \(reads)")
        for unread in tables where unread != read {
            #expect(nodes.filter { $0["Relation Name"] as? String == unread }.allSatisfy { $0["Actual Loops"] as? Int == 0 },
                    "\(definition.name): \(unread) was read")
        }
        if filter != .region {
            #expect(reads.allSatisfy { $0["Node Type"] as? String == "Index Only Scan" }, "\(definition.name): \(reads.map { $0["Node Type"] ?? "" })")
        }
    }

    /// With a region filter, the plan `active_learners` keeps for every run (decision 75) looks the region's learners up
    /// once and hashes them. 2,000 learners, half in each of two regions, each active on one of the last five days, the
    /// tables analysed; with a correlated `EXISTS` under the filter's `OR` the generic plan looked a learner up for every
    /// learner-day row, and this test fails (checked; with 40 learners the planner hashed the `EXISTS` too, and the test
    /// could not fail).
    @Test func theKeptPlanOfActiveLearnersLooksTheRegionsLearnersUpOnce() async throws {
        let handle = try TestDatabase.current
        let tenant = try await TwoTenants.empty(handle, "region", name: "Region plan")
        let statements = (0..<2_000).map { n in
            let when = ISO8601Timestamp.format(Date().addingTimeInterval(-Double(1 + n % 5) * 86_400))
            return #"{"actor":{"mbox":"mailto:learner\#(n)@region.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://region.example/lesson"},"context":{"extensions":{"\#(TenantScopeXAPI.regionExtension)":"\#(n % 2 == 0 ? "north" : "south")"}},"timestamp":"\#(when)"}"#
        }
        try await Self.ingest(statements, into: tenant.id)
        try await RollupService(database: handle.database, logger: TestDatabase.logger).catchUpAll(tenants: [tenant])
        // Statistics, as a running cluster has them: the generic plan's estimates rest on them.
        try await PreparedStatementTests.owner(handle, "ANALYZE app.learners, app.daily_learner_activity")
        let (nodes, generic) = try await Self.keptPlan(of: StandardReports.activeLearners, tenant: tenant.id, parameters: [],
                                                       attributes: ["region": "north"])
        #expect(generic, "the plan was made for the run's values, not kept for every run")
        let lookups = nodes.filter { $0["Relation Name"] as? String == "learners" }
        #expect(!lookups.isEmpty, "the region's learners were not looked up")
        #expect(lookups.allSatisfy { $0["Actual Loops"] as? Int ?? 0 <= 1 },
                "the region's learners were looked up \(lookups.map { $0["Actual Loops"] as? Int ?? 0 }) times")
    }

    /// The plan PostgreSQL keeps for every run of `definition`'s served SQL (decision 75), run once for `parameters` and
    /// `attributes` in `tenant`'s scope under `EXPLAIN ANALYZE`: every node, subplans included, and whether PostgreSQL ran
    /// the statement's generic plan. `indexReadsOnly` plans it without sequential and bitmap scans (`SET LOCAL`), so that
    /// a table's read is an index scan or an index-only scan whatever its size: which one says whether the index holds
    /// every column the plan needs.
    static func keptPlan(of definition: ReportDefinition, tenant: TenantID, parameters: [(String, String)],
                         attributes: [String: String] = [:], indexReadsOnly: Bool = false) async throws -> (nodes: [[String: Any]], generic: Bool) {
        let request = try ReportRequest(definition: definition, surface: .tenant, rawParameters: parameters, today: ISO8601Timestamp.day(Date()))
        let query = try #require(request.query)
        #expect(query.planning == .oncePerConnection)
        let statement = ReportRunner.statement(query.sql, request: request, attributes: attributes, planning: query.planning)
        let arguments = statement.values.map { value -> String in
            switch value {
            case .text(let text?): "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
            case .integer(let number?): String(number)
            case .text(nil), .integer(nil): "NULL"
            default: preconditionFailure("a report binds text and integers only")
            }
        }
        // A name of its own: a prepared statement outlives the transaction, and the connection goes back to the shared pool.
        let name = "kept_plan_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let scope = TenantScope(tenant: tenant, actor: "plan-test", role: .admin, attributes: attributes)
        let json = try await TestDatabase.current.database.sessions.runPreferringReplica(
            .tenant(scope), planning: query.planning, logger: TestDatabase.logger
        ) { c in
            if indexReadsOnly {
                try await c.execute("SET LOCAL enable_seqscan = off")
                try await c.execute("SET LOCAL enable_bitmapscan = off")
            }
            try await c.execute(PostgresQuery(unsafeSQL: "PREPARE \(name) AS \(statement.sql)"))
            let plan = try await c.query(PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE \(name)(\(arguments.joined(separator: ", ")))"))
                .collect().first!.decode(ByteBuffer.self)
            let generic = try await c.query("SELECT generic_plans = 1 FROM pg_prepared_statements WHERE name = \(name)")
                .collect().first!.decode(Bool.self)
            try await c.execute(PostgresQuery(unsafeSQL: "DEALLOCATE \(name)"))
            return (plan: String(buffer: plan), generic: generic)
        }.result
        let explained = try #require(try JSONSerialization.jsonObject(with: Data(json.plan.utf8)) as? [[String: Any]])
        var nodes: [[String: Any]] = []
        func collect(_ node: [String: Any]) {
            nodes.append(node)
            (node["Plans"] as? [[String: Any]] ?? []).forEach(collect)
        }
        explained.compactMap { $0["Plan"] as? [String: Any] }.forEach(collect)
        return (nodes, json.generic)
    }

    /// The served `completion_rate_by_course` of `tenant`, run in one scoped transaction and planned as the report runner
    /// plans it, and how many daily outcome rows and enrollments it read.
    static func servedCompletionRates(of tenant: TenantID, parameters: [(String, String)]) async throws -> ([[ReportCell]], Int, Int) {
        try await served(StandardReports.completionRateByCourse, of: tenant, parameters: parameters)
    }

    /// `definition`'s served answer for `tenant` with `parameters` (no attributes), with the daily outcome rows and the
    /// enrollments it read.
    static func served(_ definition: ReportDefinition, of tenant: TenantID,
                       parameters: [(String, String)]) async throws -> ([[ReportCell]], Int, Int) {
        let request = try ReportRequest(definition: definition, surface: .tenant, rawParameters: parameters,
                                        today: ISO8601Timestamp.day(Date()))
        let query = try #require(request.query)
        let statement = ReportRunner.statement(query.sql, request: request, attributes: [:], planning: query.planning)
        let scope = TenantScope(tenant: tenant, actor: "plan-test", role: .admin, attributes: [:])
        return try await TestDatabase.current.database.sessions.runPreferringReplica(
            .tenant(scope), planning: query.planning, logger: TestDatabase.logger
        ) { c in
            let ((rows, dailyRowsRead), enrollmentsRead) = try await Self.difference(in: Self.readsOf("app.enrollments"), on: c) {
                try await Self.difference(in: Self.readsOf("app.daily_enrollment_outcomes"), on: c) {
                    try await c.rows(statement).map { try ReportRunner.cells(of: $0, fields: query.fields) }
                }
            }
            return (rows, dailyRowsRead, enrollmentsRead)
        }.result
    }

    /// Rows a table's sequential scans read plus entries its indexes returned (plain and bitmap scans), as a counter of
    /// the backend's statistics.
    static func readsOf(_ table: String) -> String {
        """
        (pg_stat_get_xact_tuples_returned('\(table)'::regclass)
         + coalesce((SELECT sum(pg_stat_get_xact_tuples_returned(i.indexrelid)) FROM pg_index i
                     WHERE i.indrelid = '\(table)'::regclass), 0))
        """
    }

    /// What `work` returns and how much it moved `counter` (an expression of the backend's statistics). A backend keeps
    /// its counts until it reports them, at most once a second, so an earlier transaction's reads on the same pooled
    /// connection (the test's own setup) may still be in them: only the difference is this work's.
    static func difference<T: Sendable>(in counter: String, on c: ScopedConnection, _ work: () async throws -> T) async throws -> (T, Int) {
        let read = PostgresQuery(unsafeSQL: "SELECT (\(counter))::int")
        let before = try await c.query(read).collect().first!.decode(Int.self)
        let result = try await work()
        let after = try await c.query(read).collect().first!.decode(Int.self)
        return (result, after - before)
    }

    static func ingest(_ statements: [String], into tenant: TenantID) async throws {
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "plan-test"])
        let prepared = try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: validator)
        _ = try await TestDatabase.current.database.statements.store(prepared, in: tenant.testScope, logger: TestDatabase.logger)
    }
}

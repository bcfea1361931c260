import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Served reports (roll-ups for complete days, raw tables for today) against the same reports computed
/// from raw tables only, on random data: after ingest in batches, after late statements and voiding,
/// and around a tenant deletion, where platform figures must drop by exactly the deleted tenant's share.
@Suite(.serialized, .freshDatabase) struct RollupPropertyTests {
    /// Its own cluster: platform figures cover every tenant in it.

    /// Every tenant report with parameter sets that exercise windows, filters and buckets.
    static let tenantRuns: [(String, [(String, String)], [String: String])] = [
        ("active_learners", [], [:]),
        ("active_learners", [("days", "7")], [:]),
        ("active_learners", [("days", "1")], [:]),
        ("active_learners", [("days", "120")], [:]),
        ("active_learners", [], ["region": "region-0"]),
        ("completion_rate_by_course", [], [:]),
        ("completion_rate_by_course", [("since", ISO8601Timestamp.day(Date().addingTimeInterval(-10 * 86_400)))], [:]),
        ("completion_rate_by_course", [], ["region": "region-1"]),
        ("time_to_complete", [("bucket_days", "1")], [:]),
        ("time_to_complete", [("bucket_days", "7")], ["region": "region-0"]),
        ("cohort_comparison", [], [:]),
        ("cohort_comparison", [("course", "Course 1")], [:]),
        ("course_enrollments", [("course", "Course 1")], [:]),
        // `since` on a month's first day and inside a month: the served SQL's whole months from the monthly sums
        // and partial months from the daily roll-up (days 9 and 4: the month's sum less its first days; day 17: the
        // days from it on) must meet without a gap or an overlap.
        ("completion_rate_by_course", [("since", utcDay(monthsBack: 1, day: 1))], [:]),
        ("completion_rate_by_course", [("since", utcDay(monthsBack: 0, day: 1))], ["region": "region-0"]),
        ("cohort_comparison", [("since", utcDay(monthsBack: 2, day: 17))], [:]),
        ("cohort_comparison", [("since", utcDay(monthsBack: 3, day: 1))], ["region": "region-1"]),
        ("time_to_complete", [("bucket_days", "3"), ("since", utcDay(monthsBack: 2, day: 9))], [:]),
        ("time_to_complete", [("bucket_days", "2"), ("since", utcDay(monthsBack: 0, day: 1))], [:]),
        ("completion_rate_by_course", [("since", utcDay(monthsBack: 1, day: 4))], ["region": "region-1"]),
        ("time_to_complete", [("bucket_days", "5"), ("since", utcDay(monthsBack: 3, day: 4))], ["region": "region-0"]),
        ("course_enrollments", [("course", "Course 2"), ("since", ISO8601Timestamp.day(Date().addingTimeInterval(-10 * 86_400)))],
         ["region": "region-0"]),
        // A course filter without a region reads the sums over all regions, not those over all courses (migration 45).
        ("cohort_comparison", [("course", "Course 2"), ("since", utcDay(monthsBack: 1, day: 4))], [:]),
        ("time_to_complete", [("bucket_days", "1"), ("course", "Course 1"), ("since", utcDay(monthsBack: 2, day: 17))], [:]),
    ]

    /// The `day`th of the month `monthsBack` months before the current one (UTC), clamped to today.
    static func utcDay(monthsBack: Int, day: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let now = Date()
        let month = calendar.date(byAdding: .month, value: -monthsBack, to: calendar.dateInterval(of: .month, for: now)!.start)!
        let date = min(now, calendar.date(byAdding: .day, value: day - 1, to: month)!)
        return ISO8601Timestamp.day(date)
    }

    /// The monthly sums (migration 30), those over all regions (migration 44) and those over all courses (migration 45)
    /// must equal the daily roll-up summed by month: each of the daily table's writers (merge, rebuild, erasure,
    /// deletion) keeps them through the trigger. Returns the rows that differ.
    static func monthlySumsDifferingFromDaily(_ world: World, _ tenant: TenantID) async throws -> Int {
        try await world.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                WITH daily_courses AS (
                  SELECT date_trunc('month', day::timestamp)::date AS month, course_id, cohort, region, sum(enrollments)::int AS enrolled,
                         coalesce(sum(enrollments) FILTER (WHERE days_to_complete IS NOT NULL), 0)::int AS completed
                  FROM app.daily_enrollment_outcomes GROUP BY 1, 2, 3, 4
                ), monthly_courses AS (
                  SELECT month, course_id, cohort, region, enrolled, completed FROM app.monthly_course_outcomes
                ), daily_times AS (
                  SELECT date_trunc('month', day::timestamp)::date AS month, course_id, region, days_to_complete, sum(enrollments)::int AS n
                  FROM app.daily_enrollment_outcomes WHERE days_to_complete IS NOT NULL GROUP BY 1, 2, 3, 4
                ), monthly_times AS (
                  SELECT month, course_id, region, days_to_complete, completions FROM app.monthly_completion_times
                ), daily_courses_all AS (
                  SELECT month, course_id, cohort, sum(enrolled)::int AS enrolled, sum(completed)::int AS completed
                  FROM daily_courses GROUP BY 1, 2, 3
                ), monthly_courses_all AS (
                  SELECT month, course_id, cohort, enrolled, completed FROM app.monthly_course_outcomes_all_regions
                ), daily_times_all AS (
                  SELECT month, course_id, days_to_complete, sum(n)::int AS n FROM daily_times GROUP BY 1, 2, 3
                ), monthly_times_all AS (
                  SELECT month, course_id, days_to_complete, completions FROM app.monthly_completion_times_all_regions
                ), daily_cohorts AS (
                  SELECT month, cohort, sum(enrolled)::int AS enrolled, sum(completed)::int AS completed FROM daily_courses GROUP BY 1, 2
                ), monthly_cohorts AS (
                  SELECT month, cohort, enrolled, completed FROM app.monthly_cohort_outcomes_all_courses
                ), daily_days AS (
                  SELECT month, days_to_complete, sum(n)::int AS n FROM daily_times GROUP BY 1, 2
                ), monthly_days AS (
                  SELECT month, days_to_complete, completions FROM app.monthly_completion_times_all_courses
                )
                SELECT ((SELECT count(*) FROM (SELECT * FROM daily_courses EXCEPT ALL SELECT * FROM monthly_courses) a)
                      + (SELECT count(*) FROM (SELECT * FROM monthly_courses EXCEPT ALL SELECT * FROM daily_courses) b)
                      + (SELECT count(*) FROM (SELECT * FROM daily_times EXCEPT ALL SELECT * FROM monthly_times) c)
                      + (SELECT count(*) FROM (SELECT * FROM monthly_times EXCEPT ALL SELECT * FROM daily_times) d)
                      + (SELECT count(*) FROM (SELECT * FROM daily_courses_all EXCEPT ALL SELECT * FROM monthly_courses_all) e)
                      + (SELECT count(*) FROM (SELECT * FROM monthly_courses_all EXCEPT ALL SELECT * FROM daily_courses_all) f)
                      + (SELECT count(*) FROM (SELECT * FROM daily_times_all EXCEPT ALL SELECT * FROM monthly_times_all) g)
                      + (SELECT count(*) FROM (SELECT * FROM monthly_times_all EXCEPT ALL SELECT * FROM daily_times_all) h)
                      + (SELECT count(*) FROM (SELECT * FROM daily_cohorts EXCEPT ALL SELECT * FROM monthly_cohorts) i)
                      + (SELECT count(*) FROM (SELECT * FROM monthly_cohorts EXCEPT ALL SELECT * FROM daily_cohorts) j)
                      + (SELECT count(*) FROM (SELECT * FROM daily_days EXCEPT ALL SELECT * FROM monthly_days) k)
                      + (SELECT count(*) FROM (SELECT * FROM monthly_days EXCEPT ALL SELECT * FROM daily_days) l))::int
                """).collect().first!.decode(Int.self)
        }
    }

    /// The daily outcome rows must be the derived enrollments' outcomes at every commit, today's included, before a
    /// catch-up as after one: the served course reports read today from the sums of those rows, not from the
    /// enrollments (decision 77). Every writer of the enrollments writes the rows in the same transaction: a merge that
    /// writes the enrollments alone fails this (checked). Returns the rows that differ.
    static func outcomesDifferingFromEnrollments(_ world: World, _ tenant: TenantID) async throws -> Int {
        try await world.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                WITH derived AS (
                  SELECT * FROM app.enrollment_outcomes_of(ARRAY(SELECT actor_key FROM app.learners))
                ), kept AS (
                  SELECT day, course_id, cohort, region, days_to_complete, enrollments FROM app.daily_enrollment_outcomes
                )
                SELECT ((SELECT count(*) FROM (SELECT * FROM derived EXCEPT ALL SELECT * FROM kept) a)
                      + (SELECT count(*) FROM (SELECT * FROM kept EXCEPT ALL SELECT * FROM derived) b))::int
                """).collect().first!.decode(Int.self)
        }
    }

    /// The learners counted by last day (migration 42) must equal the active days counted by last day: every writer
    /// of the active days (merge, rebuild, erasure, deletion) keeps them through the trigger. Returns the rows that
    /// differ.
    static func lastDayCountsDifferingFromActiveDays(_ world: World, _ tenant: TenantID) async throws -> Int {
        try await world.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                WITH counted AS (
                  SELECT last_day, count(*)::int AS learners FROM app.learner_active_days GROUP BY 1
                ), kept AS (
                  SELECT last_day, learners FROM app.learners_by_last_day
                )
                SELECT ((SELECT count(*) FROM (SELECT * FROM counted EXCEPT ALL SELECT * FROM kept) a)
                      + (SELECT count(*) FROM (SELECT * FROM kept EXCEPT ALL SELECT * FROM counted) b))::int
                """).collect().first!.decode(Int.self)
        }
    }

    struct World {
        let database: Database
        let runner: ReportRunner
        let rollups: RollupService
        var tenants: [Tenant]
        var statementIDs: [TenantID: [String]] = [:]
    }

    static func ingest(_ statements: [String], into tenant: TenantID, world: World) async throws {
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "rollup-test"])
        let prepared = try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: validator)
        _ = try await world.database.statements.store(prepared, in: tenant.testScope, logger: TestDatabase.logger)
    }

    static func report(_ world: World, _ tenant: TenantID, _ name: String, _ parameters: [(String, String)],
                       _ attributes: [String: String], path: ReportRunner.Path) async throws -> [[ReportCell]] {
        let scope = TenantScope(tenant: tenant, actor: "rollup-test", role: .admin, attributes: attributes)
        return try await world.runner.run(name, in: .tenant(scope), parameters: parameters, path: path, logger: TestDatabase.logger).rows
    }

    static func platform(_ world: World, _ name: String) async throws -> [[ReportCell]] {
        try await world.runner.run(name, in: .platform(ScopePolicy.platformCommand(operator: "rollup-test")), parameters: [],
                                   logger: TestDatabase.logger).rows
    }

    /// Checks served == cold for every tenant and report; returns each tenant's cold active_learners rows.
    static func checkServedEqualsCold(_ world: World, stage: String) async throws {
        for tenant in world.tenants {
            for (name, parameters, attributes) in tenantRuns {
                let served = try await report(world, tenant.id, name, parameters, attributes, path: .served)
                let cold = try await report(world, tenant.id, name, parameters, attributes, path: .cold)
                #expect(served == cold, "\(stage): \(name) \(parameters) \(attributes) for \(tenant.slug)")
            }
            #expect(try await monthlySumsDifferingFromDaily(world, tenant.id) == 0, "\(stage): monthly sums of \(tenant.slug)")
            #expect(try await outcomesDifferingFromEnrollments(world, tenant.id) == 0, "\(stage): outcomes of \(tenant.slug)")
            #expect(try await lastDayCountsDifferingFromActiveDays(world, tenant.id) == 0, "\(stage): last-day counts of \(tenant.slug)")
        }
    }

    /// The platform's active learners must equal the sum of every tenant's own (cold) figures: learner
    /// identities are per tenant, so distinct counts add up across tenants.
    static func checkPlatformEqualsSumOfTenants(_ world: World, stage: String) async throws {
        let platform = try await platform(world, "active_learners")
        var daily: [String: Int] = [:]
        var windowTotal = 0
        for tenant in try await world.database.tenants.list(logger: TestDatabase.logger) {
            for row in try await report(world, tenant.id, "active_learners", [], [:], path: .cold) {
                guard case .text(let day) = row[0], case .integer(let n) = row[1] else { continue }
                daily[day, default: 0] += n
            }
            let rows = try await report(world, tenant.id, "active_learners", [], [:], path: .cold)
            if case .integer(let distinct) = rows.first?[2] { windowTotal += distinct }
        }
        let expected = daily.keys.sorted().map { [ReportCell.text($0), .integer(daily[$0]!), .integer(windowTotal)] }
        #expect(platform == expected, "\(stage): platform active_learners")
    }

    /// A learner who enrolls and completes today: the part of every report that roll-ups do not cover yet.
    static func newcomerToday(host: String) -> [String] {
        let now = Date()
        let midnight = ISO8601Timestamp.parse(ISO8601Timestamp.day(now) + "T00:00:00Z")!
        let course = #"{"id":"https://\#(host)/course/1","definition":{"type":"http://adlnet.gov/expapi/activities/course","name":{"en-US":"Course 1"}}}"#
        return ["registered", "completed"].enumerated().map { index, verb in
            let at = ISO8601Timestamp.format(midnight.addingTimeInterval(Double(index + 1) * min(60, now.timeIntervalSince(midnight) / 3)))
            return #"{"actor":{"mbox":"mailto:newcomer@\#(host)"},"verb":{"id":"http://adlnet.gov/expapi/verbs/\#(verb)"},"object":\#(course),"timestamp":"\#(at)","context":{"extensions":{"https://tenantscope.dev/xapi/extensions/learner-region":"region-0"}}}"#
        }
    }

    /// Learners whose activity is later voided away, in a past window and today. `wanderer` is active 3
    /// and 20 days ago, `loner` only 3 days ago: voiding their statements of 3 days ago must drop the
    /// wanderer from the 7-day window and the loner from every window, which the per-learner activity
    /// summary only gets right when it also refreshes the learners active on a recomputed day before the
    /// refresh. Today, `vanishing` has one statement and `flickering` two, one of each voided later, and
    /// `steady` one that stays: today's count must follow voiding before the roll-ups catch up.
    static func fadingLearners(host: String) -> (statements: [String], laterVoided: [String]) {
        let now = Date()
        let midnight = ISO8601Timestamp.parse(ISO8601Timestamp.day(now) + "T00:00:00Z")!
        func statement(_ who: String, at date: Date) -> (id: String, json: String) {
            let id = UUID().uuidString.lowercased()
            return (id, #"{"id":"\#(id)","actor":{"mbox":"mailto:\#(who)@\#(host)"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://\#(host)/lesson/9"},"timestamp":"\#(ISO8601Timestamp.format(date))"}"#)
        }
        func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }
        func earlierToday(_ fraction: Double) -> Date { midnight.addingTimeInterval(now.timeIntervalSince(midnight) * fraction) }
        let voided = [
            statement("wanderer", at: daysAgo(3)), statement("loner", at: daysAgo(3)),
            statement("vanishing", at: earlierToday(0.2)), statement("flickering", at: earlierToday(0.3)),
        ]
        let kept = [statement("wanderer", at: daysAgo(20)), statement("flickering", at: earlierToday(0.4)),
                    statement("steady", at: earlierToday(0.5))]
        return ((voided + kept).map(\.json), voided.map(\.id))
    }

    /// Today's figure of `active_learners`, served and cold, must agree before the roll-ups catch up.
    static func checkTodayIsCurrent(_ world: World, stage: String) async throws {
        for tenant in world.tenants {
            for attributes in [[:], ["region": "region-0"]] {
                let served = try await report(world, tenant.id, "active_learners", [("days", "3")], attributes, path: .served)
                let cold = try await report(world, tenant.id, "active_learners", [("days", "3")], attributes, path: .cold)
                #expect(served.last?[1] == cold.last?[1], "\(stage): today's active learners \(attributes) for \(tenant.slug)")
            }
            #expect(try await outcomesDifferingFromEnrollments(world, tenant.id) == 0, "\(stage): outcomes of \(tenant.slug)")
        }
    }

    /// Moves every stored statement of the tenant a day back, behind the roll-up watermark's overlap: served
    /// SQL must take them from the roll-ups (it re-read that raw tail until decision 73; it reads the queue now).
    static func ageStoredStatements(_ world: World) async throws {
        for tenant in world.tenants {
            try await world.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
                _ = try await connection.query("UPDATE app.statements SET stored = stored - interval '1 day'").collect()
            }
        }
    }

    @Test(arguments: [UInt64(11), 12])
    func servedReportsEqualRawReportsThroughLateDataVoidingAndDeletion(seed: UInt64) async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        var world = World(
            database: db, runner: ReportRunner(catalog: try StandardReports.catalog(), database: db),
            rollups: RollupService(database: db, logger: TestDatabase.logger), tenants: []
        )
        // A span of over three months, so whole months are served from the monthly sums.
        let start = Date().addingTimeInterval(-100 * 86_400)
        var fadingIDs: [TenantID: [String]] = [:]
        for index in 0..<3 {
            let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("roll")), name: "Roll-up \(index)", logger: TestDatabase.logger)
            world.tenants.append(tenant)
            let statements = RandomStatements.make(
                seed: seed &* 10 &+ UInt64(index), count: 150, start: start, spanDays: 101, host: "t\(index).example")
            world.statementIDs[tenant.id] = statements.map { XAPIJSON.object($0)["id"]!.stringValue! }
            let fading = Self.fadingLearners(host: "t\(index).example")
            fadingIDs[tenant.id] = fading.laterVoided
            try await Self.ingest(fading.statements, into: tenant.id, world: world)
            try await Self.ingest(Array(statements[..<100]), into: tenant.id, world: world)
            try await Self.ingest(Array(statements[100...]), into: tenant.id, world: world)
        }
        try await world.rollups.catchUpAll(tenants: world.tenants)
        try await Self.checkServedEqualsCold(world, stage: "after ingest")
        try await Self.checkPlatformEqualsSumOfTenants(world, stage: "after ingest")

        // Late statements (old timestamps, stored now) and voiding of earlier statements. Today's figure
        // is checked before the catch-up: roll-up rows for what was stored earlier, raw for the rest.
        try await Self.ageStoredStatements(world)
        for (index, tenant) in world.tenants.enumerated() {
            let late = RandomStatements.make(
                seed: seed &* 100 &+ UInt64(index), count: 30, start: start, spanDays: 20, host: "t\(index).example")
            let ids = world.statementIDs[tenant.id]!
            let voiding = (stride(from: 0, to: ids.count, by: 9).map { ids[$0] } + fadingIDs[tenant.id]!).map(RandomStatements.voiding)
            try await Self.ingest(late + voiding + Self.newcomerToday(host: "t\(index).example"), into: tenant.id, world: world)
        }
        try await Self.checkTodayIsCurrent(world, stage: "after voiding, before the catch-up")
        // Derived, not rolled up yet (a pass's chunk that leaves the roll-ups to its last): the outcome rows must already
        // be the enrollments'.
        for tenant in world.tenants {
            try await world.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
                _ = try await connection.query("SELECT app.lock_tenant_derivation(), app.derive_queued_learning_facts(100000)").collect()
            }
            #expect(try await Self.outcomesDifferingFromEnrollments(world, tenant.id) == 0,
                    "derived, not rolled up: outcomes of \(tenant.slug)")
        }
        try await world.rollups.catchUpAll(tenants: world.tenants)
        try await Self.checkServedEqualsCold(world, stage: "after late statements and voiding")
        try await Self.checkPlatformEqualsSumOfTenants(world, stage: "after late statements and voiding")

        // Tenant deletion: platform figures drop by exactly the deleted tenant's own.
        let before = try await Self.platform(world, "active_learners")
        let deleted = world.tenants.removeLast()
        let share = try await Self.report(world, deleted.id, "active_learners", [], [:], path: .cold)
        let adoptionBefore = try await Self.platform(world, "feature_adoption")
        #expect(try await db.tenants.delete(slug: deleted.slug, logger: TestDatabase.logger)?.id == deleted.id)
        let after = try await Self.platform(world, "active_learners")
        let shareWindow: Int = if case .integer(let n) = share.first?[2] { n } else { 0 }
        for (row, (old, mine)) in zip(after, zip(before, share)) {
            guard case .integer(let a) = row[1], case .integer(let b) = old[1], case .integer(let m) = mine[1],
                  case .integer(let aw) = row[2], case .integer(let bw) = old[2] else {
                Issue.record("unexpected row shape")
                continue
            }
            #expect(row[0] == old[0] && a == b - m && aw == bw - shareWindow)
        }
        try await Self.checkPlatformEqualsSumOfTenants(world, stage: "after deletion")
        try await Self.checkServedEqualsCold(world, stage: "after deletion")
        // No feature events in this world: adoption stays empty, and the deleted tenant left nothing behind.
        #expect(try await Self.platform(world, "feature_adoption") == adoptionBefore)
        // Counted past row-level security: the deleted tenant's own scope is refused at the gate (migration 51).
        let tables = try await TwoTenants.tenantTables(handle)
        let leftovers = try await OneShotConnection.with(try await handle.superuserEndpoint(), logger: TestDatabase.logger) { connection in
            var total = 0
            for table in tables {
                total += try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) WHERE tenant_id = '\(deleted.id)'"),
                                                    logger: TestDatabase.logger).collect().first!.decode(Int.self)
            }
            return total
        }
        #expect(leftovers == 0)
    }
}

import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Every report against a small fixture whose answers are computed by hand in the comments.
///
/// The suite has a cluster of its own (platform reports count all tenants) and runs serially.
@Suite(.serialized, .freshDatabase) struct ReportTests {

    /// Fixture (D = today, UTC):
    /// tenant R1: learners l1 (EU), l2 (EU), l3 (NA); courses Alpha, Beta.
    ///   statements: l1 at D-1 (twice) and D-2 and D-40; l2 at D-1; l3 at D-10; a voided one of l3 at D-1.
    ///   enrollments: l1-Alpha D-20→D-15 (5 d, cohort 2026-01); l2-Alpha D-20→D-8 (12 d, 2026-01);
    ///                l3-Alpha D-18 open (2026-02); l1-Beta D-30→D-29 (1 d, 2026-02);
    ///                l2-Beta D-25 open (2026-03); l3-Beta D-5 open (2026-03).
    ///   feature events: dashboards at D-1 (two actors), exports at D-50.
    /// tenant R2: learner m1 at D-1, course "Canary <R2 canary>", feature events dashboards D-2, sso D-3.
    struct Fixture: Sendable {
        let handle: TestDatabase
        let r1: TenantID
        let r2: TenantID
        let r2Canary: String
        let runner: ReportRunner
    }

    static let fixture = FixtureBox()

    actor FixtureBox {
        private var value: Fixture?
        func get() async throws -> Fixture {
            if let value { return value }
            let made = try await ReportTests.makeFixture()
            value = made
            return made
        }
    }

    static func makeFixture() async throws -> Fixture {
        let handle = try TestDatabase.current
        let db = handle.database
        let r1 = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("r1")), name: "Report tenant one", logger: TestDatabase.logger).id
        let r2 = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("r2")), name: "Report tenant two", logger: TestDatabase.logger).id
        let canary = UUID().uuidString.lowercased()
        try await db.sessions.run(r1.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("""
                INSERT INTO app.learners (id, actor_key, region, first_seen, last_seen) VALUES
                  ('00000000-0000-4000-8000-000000000001', 'mbox:mailto:l1@r1.example', 'EU', now(), now()),
                  ('00000000-0000-4000-8000-000000000002', 'mbox:mailto:l2@r1.example', 'EU', now(), now()),
                  ('00000000-0000-4000-8000-000000000003', 'mbox:mailto:l3@r1.example', 'NA', now(), now())
                """)
            try await c.execute("""
                INSERT INTO app.courses (id, course_iri, title) VALUES
                  ('00000000-0000-4000-8000-0000000000a1', 'https://r1.example/alpha', 'Alpha'),
                  ('00000000-0000-4000-8000-0000000000b1', 'https://r1.example/beta', 'Beta')
                """)
            try await c.execute("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp", voided)
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:' || a || '@r1.example', 'v', 'o',
                       (current_date - d)::timestamp AT TIME ZONE 'UTC' + interval '12 hours', v
                FROM (VALUES ('l1', 1, false), ('l1', 1, false), ('l1', 2, false), ('l1', 40, false),
                             ('l2', 1, false), ('l3', 10, false), ('l3', 1, true)) AS s(a, d, v)
                """)
            try await c.execute("""
                INSERT INTO app.enrollments (learner_id, course_id, enrolled_at, completed_at, cohort)
                SELECT ('00000000-0000-4000-8000-00000000000' || l)::uuid, ('00000000-0000-4000-8000-0000000000' || k || '1')::uuid,
                       (current_date - e)::timestamp AT TIME ZONE 'UTC' + interval '9 hours',
                       CASE WHEN f IS NULL THEN NULL ELSE (current_date - f)::timestamp AT TIME ZONE 'UTC' + interval '9 hours' END, h
                FROM (VALUES (1, 'a', 20, 15, '2026-01'), (2, 'a', 20, 8, '2026-01'), (3, 'a', 18, NULL, '2026-02'),
                             (1, 'b', 30, 29, '2026-02'), (2, 'b', 25, NULL, '2026-03'), (3, 'b', 5, NULL, '2026-03'))
                  AS x(l, k, e, f, h)
                """)
            try await c.execute("""
                INSERT INTO app.feature_events (feature_key, actor, occurred_at) VALUES
                  ('dashboards', 'a1', now() - interval '1 day'), ('dashboards', 'a2', now() - interval '1 day'),
                  ('exports', 'a1', now() - interval '50 days')
                """)
            try await c.execute("SELECT app.catch_up_rollups('10 minutes', true)")
        }
        try await db.sessions.run(r2.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("""
                INSERT INTO app.learners (id, actor_key, display_name, first_seen, last_seen)
                VALUES ('00000000-0000-4000-8000-000000000009', \("mbox:mailto:canary-\(canary)@r2.example"), \("Canary \(canary)"), now(), now())
                """)
            try await c.execute("""
                INSERT INTO app.courses (id, course_iri, title) VALUES ('00000000-0000-4000-8000-0000000000c1', \("https://r2.example/\(canary)"), \("Canary \(canary)"))
                """)
            try await c.execute("""
                INSERT INTO app.enrollments (learner_id, course_id, enrolled_at, completed_at, cohort)
                VALUES ('00000000-0000-4000-8000-000000000009', '00000000-0000-4000-8000-0000000000c1', now() - interval '3 days', now(), \("cohort-\(canary)"))
                """)
            try await c.execute("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp")
                VALUES (gen_random_uuid(), '{}', \("mbox:mailto:canary-\(canary)@r2.example"), 'v', 'o', (current_date - 1)::timestamp AT TIME ZONE 'UTC' + interval '12 hours')
                """)
            try await c.execute("""
                INSERT INTO app.feature_events (feature_key, actor, occurred_at) VALUES
                  ('dashboards', 'b1', now() - interval '2 days'), ('sso', 'b1', now() - interval '3 days')
                """)
            try await c.execute("SELECT app.catch_up_rollups('10 minutes', true)")
        }
        let runner = ReportRunner(catalog: try StandardReports.catalog(), database: db)
        return Fixture(handle: handle, r1: r1, r2: r2, r2Canary: canary, runner: runner)
    }

    static func day(_ offset: Int) -> String {
        ISO8601Timestamp.day(Date().addingTimeInterval(Double(-offset) * 86_400))
    }

    func run(_ f: Fixture, _ report: String, _ parameters: [(String, String)] = [], attributes: [String: String] = [:],
             platform: Bool = false) async throws -> [[ReportCell]] {
        let principal: Principal = platform
            ? .platformAdmin(operator: "report-tests")
            : .tenantUser(TenantUser(subject: "u", tenant: f.r1, role: .viewer, attributes: attributes))
        let scope = try ScopePolicy.scope(for: principal, on: platform ? .platform : .tenant, purpose: "reports")
        return try await f.runner.run(report, in: scope, parameters: parameters, logger: TestDatabase.logger).rows
    }

    @Test func activeLearnersDailyAndExactWindowCount() async throws {
        let f = try await Self.fixture.get()
        // D-2: {l1}; D-1: {l1, l2} (l3's statement is voided); D: nobody. Window distinct: {l1, l2}.
        #expect(try await run(f, "active_learners", [("days", "3")]) == [
            [.text(Self.day(2)), .integer(1), .integer(2)],
            [.text(Self.day(1)), .integer(2), .integer(2)],
            [.text(Self.day(0)), .integer(0), .integer(2)],
        ])
        // 30 days: l1, l2, l3 (D-10); l1's D-40 is outside.
        let month = try await run(f, "active_learners")
        #expect(month.count == 30)
        #expect(month.allSatisfy { $0[2] == .integer(3) })
        // A signed region attribute filters rows: EU is l1 and l2.
        #expect(try await run(f, "active_learners", attributes: ["region": "EU"]).allSatisfy { $0[2] == .integer(2) })
    }

    @Test func completionRateByCourse() async throws {
        let f = try await Self.fixture.get()
        #expect(try await run(f, "completion_rate_by_course") == [
            [.text("Alpha"), .integer(3), .integer(2), .number(0.6667)],
            [.text("Beta"), .integer(3), .integer(1), .number(0.3333)],
        ])
        #expect(try await run(f, "completion_rate_by_course", [("course", "Beta")]) == [
            [.text("Beta"), .integer(3), .integer(1), .number(0.3333)],
        ])
        // EU learners only: Alpha l1+l2 both completed; Beta l1 completed, l2 open.
        #expect(try await run(f, "completion_rate_by_course", attributes: ["region": "EU"]) == [
            [.text("Alpha"), .integer(2), .integer(2), .number(1.0)],
            [.text("Beta"), .integer(2), .integer(1), .number(0.5)],
        ])
        // Enrollments since D-22 leave out l1-Beta (D-30) and l2-Beta (D-25).
        #expect(try await run(f, "completion_rate_by_course", [("since", Self.day(22))]) == [
            [.text("Alpha"), .integer(3), .integer(2), .number(0.6667)],
            [.text("Beta"), .integer(1), .integer(0), .number(0.0)],
        ])
    }

    @Test func timeToCompleteHistogram() async throws {
        let f = try await Self.fixture.get()
        // Durations 5, 12 and 1 days.
        #expect(try await run(f, "time_to_complete") == [
            [.integer(0), .integer(7), .integer(2)],
            [.integer(7), .integer(14), .integer(1)],
        ])
        #expect(try await run(f, "time_to_complete", [("bucket_days", "3")]) == [
            [.integer(0), .integer(3), .integer(1)],
            [.integer(3), .integer(6), .integer(1)],
            [.integer(12), .integer(15), .integer(1)],
        ])
    }

    @Test func cohortComparisonWithWindowFunctions() async throws {
        let f = try await Self.fixture.get()
        // 2026-01: 2/2; 2026-02: 1/2; 2026-03: 0/2.
        #expect(try await run(f, "cohort_comparison") == [
            [.text("2026-01"), .integer(2), .integer(2), .number(1.0), .null, .integer(1)],
            [.text("2026-02"), .integer(2), .integer(1), .number(0.5), .number(-0.5), .integer(2)],
            [.text("2026-03"), .integer(2), .integer(0), .number(0.0), .number(-0.5), .integer(3)],
        ])
    }

    @Test func featureAdoptionIsATenantLevelYesNo() async throws {
        let f = try await Self.fixture.get()
        // 30 days: dashboards in R1 and R2 (2 of 2), sso in R2 (1 of 2); R1's exports were 50 days ago.
        #expect(try await run(f, "feature_adoption", platform: true) == [
            [.text("dashboards"), .integer(2), .integer(2), .number(1.0)],
            [.text("sso"), .integer(1), .integer(2), .number(0.5)],
        ])
        #expect(try await run(f, "feature_adoption", [("days", "60")], platform: true).map { $0[0] } == [.text("dashboards"), .text("exports"), .text("sso")])
    }

    @Test func platformActiveLearnersAggregateRollupsAtQueryTime() async throws {
        let f = try await Self.fixture.get()
        // D-2: R1 {l1}; D-1: R1 {l1, l2} + R2 {m1}; window distinct: 3.
        #expect(try await run(f, "active_learners", [("days", "3")], platform: true) == [
            [.text(Self.day(2)), .integer(1), .integer(3)],
            [.text(Self.day(1)), .integer(3), .integer(3)],
            [.text(Self.day(0)), .integer(0), .integer(3)],
        ])
    }

    @Test func tenantOverviewListsEachTenantsOwnValues() async throws {
        let f = try await Self.fixture.get()
        let rows = try await run(f, "tenant_overview", platform: true)
        // R1: learners l1, l2, l3; statements 3 + 1 + 1 (voided and D-40 excluded); one feature. R2: 1, 1, 2.
        #expect(rows.map { Array($0[3...]) } == [[.integer(3), .integer(5), .integer(1)], [.integer(1), .integer(1), .integer(2)]])
    }

    @Test func aTenantNeverSeesAnotherTenantsCanaryThroughAnyReportOrParameter() async throws {
        let f = try await Self.fixture.get()
        let attempts: [(String, [(String, String)])] = [
            ("active_learners", []), ("active_learners", [("days", "365")]),
            ("completion_rate_by_course", []), ("completion_rate_by_course", [("course", "Canary \(f.r2Canary)")]),
            ("completion_rate_by_course", [("course", "https://r2.example/\(f.r2Canary)")]), ("completion_rate_by_course", [("since", "2000-01-01")]),
            ("time_to_complete", [("course", "Canary \(f.r2Canary)")]), ("time_to_complete", [("bucket_days", "1")]),
            ("cohort_comparison", []), ("cohort_comparison", [("course", "https://r2.example/\(f.r2Canary)")]),
        ]
        for (report, parameters) in attempts {
            for attributes in [[:], ["region": "EU"], ["region": "' OR true --"]] {
                let rows = try await run(f, report, parameters, attributes: attributes)
                let text = rows.map { $0.map(\.description).joined(separator: "|") }.joined(separator: "\n")
                #expect(!text.contains(f.r2Canary), "\(report) \(parameters) leaked another tenant's canary")
            }
        }
        // Control: R2 itself does see its canary, so the check above can fail.
        let own = try await f.runner.run("completion_rate_by_course", in: .tenant(f.r2.testScope), parameters: [], logger: TestDatabase.logger)
        #expect(own.rows.contains { $0[0] == .text("Canary \(f.r2Canary)") })
    }

    /// The refusals themselves are the scope policy's; their audit rows are written by the server's
    /// scope middleware and checked over HTTP (ReportHTTPTests).
    @Test func crossTenantScopeIsRefusedForTenantsAndCrossTenantQueriesAreAudited() async throws {
        let f = try await Self.fixture.get()
        let tenantUser = Principal.tenantUser(TenantUser(subject: "sneaky-user", tenant: f.r1, role: .admin))
        #expect(throws: ScopeRefusal(principal: tenantUser, surface: .platform, purpose: "platform reports")) {
            try ScopePolicy.scope(for: tenantUser, on: .platform, purpose: "platform reports")
        }
        #expect(ScopeRefusal(principal: tenantUser, surface: .platform, purpose: "platform reports").description
            == "platform reports need a platform-admin token")
        #expect(throws: ScopeRefusal.self) {
            try ScopePolicy.scope(for: .platformAdmin(operator: "op"), on: .tenant, purpose: "tenant reports")
        }
        _ = try await run(f, "tenant_overview", [("days", "7")], platform: true)
        let tail = try await f.handle.admin.auditTrail.tail(limit: 50, logger: TestDatabase.logger)
        let run = try #require(tail.last { $0.entry.action == "cross_tenant_query" && $0.entry.report == "tenant_overview" })
        #expect(run.entry.actor == "report-tests" && run.entry.rowCount == 2 && run.entry.parameters == ["days": "7"] && run.entry.outcome == "ok")

        // A run that fails before it reads is audited too: a name the platform surface does not have (a tenant report),
        // and a cold run of a report with no cold variant.
        let platform = try ScopePolicy.scope(for: .platformAdmin(operator: "report-tests"), on: .platform, purpose: "reports")
        await #expect(throws: TenantScopeError.self) {
            try await f.runner.run("course_enrollments", in: platform, parameters: [], logger: TestDatabase.logger)
        }
        await #expect(throws: TenantScopeError.self) {
            try await f.runner.run("tenant_overview", in: platform, parameters: [("days", "7")], path: .cold, logger: TestDatabase.logger)
        }
        let failures = try await f.handle.admin.auditTrail.tail(limit: 2, logger: TestDatabase.logger).map(\.entry)
        #expect(failures.map(\.action) == ["cross_tenant_query", "cross_tenant_query"])
        #expect(failures.map(\.report) == ["course_enrollments", "tenant_overview"])
        #expect(failures.map(\.outcome) == ["not_found", "invalid_parameters"])
    }

    /// Every tenant report, served and cold, answers the same through its read function in one round trip
    /// (architecture decision 61) as in a scoped transaction: the casts to the fields' types change no value.
    @Test func everyTenantReportAnswersTheSameInOneCallAsInATransaction() async throws {
        let f = try await Self.fixture.get()
        let sessions = f.handle.database.sessions
        var nonEmpty = 0
        for definition in f.runner.list(on: .tenant) {
            for (parameters, attributes) in [([], [:]), ([("since", Self.day(60))], ["region": "EU"])] as [([(String, String)], [String: String])] {
                // A required parameter (a drill-down's course) gets a course of the fixture.
                let known = parameters.filter { name in definition.parameters.contains { $0.name == name.0 } }
                    + definition.parameters.filter(\.isRequired).map { ($0.name, "Alpha") }
                let request = try ReportRequest(definition: definition, surface: .tenant, rawParameters: known, today: Self.day(0))
                let query = try #require(request.query)
                let principal = Principal.tenantUser(TenantUser(subject: "u", tenant: f.r1, role: .admin, attributes: attributes))
                guard case .tenant(let scope) = try ScopePolicy.scope(for: principal, on: .tenant, purpose: "reports") else {
                    Issue.record("a tenant user's scope is not a tenant scope")
                    return
                }
                for sql in [query.sql, query.coldSQL].compactMap({ $0 }) {
                    let statement = ReportRunner.statement(sql, request: request, attributes: attributes)
                    let columns = query.fields.map(\.type)
                    try await f.handle.database.tenantPool.client.withConnection { connection in
                        let inOneCall = try await sessions.readRows(scope, statement, columns: columns, on: connection, logger: TestDatabase.logger)
                            .map { try ReportRunner.cells(of: $0, fields: query.fields) }
                        // It was answered by the report's function, not by a transaction after a fallback.
                        let function = ScopedReadFunctions.shared.function(for: statement, columns: columns)
                        #expect(SessionFunctions.shared.isCreated(function, on: connection))
                        #expect(!SessionFunctions.shared.runsTransactions(on: connection))
                        let inTransaction = try await sessions.run(.tenant(scope), on: connection, access: .readOnly, statementTimeout: nil,
                                                                   logger: TestDatabase.logger) { try await $0.rows(statement) }
                            .map { try ReportRunner.cells(of: $0, fields: query.fields) }
                        #expect(inOneCall == inTransaction, "\(definition.name) \(known) \(attributes)")
                        if !inOneCall.isEmpty { nonEmpty += 1 }
                    }
                }
            }
        }
        // The comparison saw rows, not only empty answers.
        #expect(nonEmpty >= 8)
    }

    /// Platform reports run as one call of a platform read function the server's login makes (architecture decision 62):
    /// each answers the same in one call as in a platform transaction, and the call runs as the platform role, which may
    /// not read a learner table.
    @Test func everyPlatformReportAnswersTheSameInOneCallAsInATransaction() async throws {
        let f = try await Self.fixture.get()
        let sessions = f.handle.database.sessions
        let platform = ScopePolicy.platformCommand(operator: "one-call-test")
        var nonEmpty = 0
        let recorder = LogRecorder()
        try await OneShotConnection.with(f.handle.database.appEndpoint, logger: recorder.logger) { (connection: PostgresConnection) async throws -> Void in
            for definition in f.runner.list(on: .platform) {
                let known = definition.parameters.filter(\.isRequired).map { ($0.name, "Alpha") }
                let request = try ReportRequest(definition: definition, surface: .platform, rawParameters: known, today: Self.day(0))
                let query = try #require(request.query)
                for sql in [query.sql, query.coldSQL].compactMap({ $0 }) {
                    let statement = ReportRunner.statement(sql, request: request, attributes: [:])
                    let columns = query.fields.map(\.type)
                    _ = try await sessions.platformRows(platform, statement, columns: columns, on: connection, logger: TestDatabase.logger)
                    var inOneCall: [[ReportCell]] = []
                    let exchanges = try await ScopedReadFunctionTests.exchanges(recorder) {
                        inOneCall = try await sessions.platformRows(platform, statement, columns: columns, on: connection, logger: TestDatabase.logger)
                            .map { try ReportRunner.cells(of: $0, fields: query.fields) }
                    }
                    #expect(exchanges == 1, "\(definition.name)")
                    let function = ScopedReadFunctions.shared.function(for: statement, columnTypes: columns.map(ScopedReadFunctions.sqlType),
                                                                       platform: true)
                    #expect(SessionFunctions.shared.isCreated(function, on: connection))
                    let inTransaction = try await sessions.run(.platform(platform), on: connection, access: .readOnly, statementTimeout: nil,
                                                               logger: TestDatabase.logger) { try await $0.rows(statement) }
                        .map { try ReportRunner.cells(of: $0, fields: query.fields) }
                    #expect(inOneCall == inTransaction, "\(definition.name)")
                    if !inOneCall.isEmpty { nonEmpty += 1 }
                }
            }
            // The call runs as the platform role, read-only and without a tenant, and leaves the session as it found it.
            let who = BoundStatement(sql: """
                SELECT current_user::text, current_setting('transaction_read_only'), coalesce(current_setting('app.tenant_ctx', true), '')
                """, values: [])
            let inside = try await sessions.platformRows(platform, who, columns: [.text, .text, .text], on: connection, logger: TestDatabase.logger)
                .first!.decode((String, String, String).self)
            #expect(inside.0 == "tenantscope_platform" && inside.1 == "on" && inside.2 == "")
            let after = try await connection.query("SELECT current_user::text, current_setting('transaction_read_only')", logger: TestDatabase.logger)
                .collect().first!.decode((String, String).self)
            #expect(after.0 == f.handle.database.appEndpoint.username && after.1 == "off")
            // A learner table is out of its reach, as in a platform transaction.
            let learners = BoundStatement(sql: "SELECT count(*)::int8 FROM app.learners", values: [])
            let error = await #expect(throws: PSQLError.self) {
                _ = try await sessions.platformRows(platform, learners, columns: [.integer], on: connection, logger: TestDatabase.logger)
            }
            #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == "42501")
        }
        #expect(nonEmpty >= 2)
    }

    @Test func unknownReportsAndParametersAreClientErrors() async throws {
        let f = try await Self.fixture.get()
        await #expect(throws: TenantScopeError.self) { try await run(f, "no_such_report") }
        await #expect(throws: TenantScopeError.self) { try await run(f, "feature_adoption") }  // platform-only
        await #expect(throws: TenantScopeError.self) { try await run(f, "active_learners", [("days", "1000")]) }
        await #expect(throws: TenantScopeError.self) { try await run(f, "active_learners", [("tenant_id", f.r2.description)]) }
    }
}

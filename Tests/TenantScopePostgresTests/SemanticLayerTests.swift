import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The semantic layer and the sandbox role (migration 20): the documented contract is the live schema, a
/// tenant's SQL sees its own rows and no learner secret, and the sandbox cannot leave the layer by itself
/// (these run without the parser guard: they prove the second layer).
@Suite(.database) struct SemanticLayerTests {
    static func analyst(_ member: TwoTenants.Member) -> TenantScope {
        TenantScope(tenant: member.tenant.id, actor: "analyst-1", role: .analyst)
    }

    static func run(_ sql: String, as member: TwoTenants.Member, _ handle: TestDatabase, limits: SQLSandbox.Limits = .init()) async throws -> SQLResult {
        do {
            return try await SQLSandbox(database: handle.database).run(.unguardedForTesting(sql), in: analyst(member), limits: limits, logger: TestDatabase.logger)
        } catch let error as PSQLError {
            Issue.record("\(sql): \(String(reflecting: error))")
            throw error
        }
    }

    static func text(_ result: SQLResult) -> String {
        result.rows.map { $0.map(\.description).joined(separator: "|") }.joined(separator: "\n")
    }

    @Test func theDocumentedLayerIsTheLiveSchema() async throws {
        let handle = try TestDatabase.current
        let live = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            var views: [String: (comment: String, columns: [SemanticLayer.Column])] = [:]
            let rows = try await connection.query("""
                SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), ''), a.attname, format_type(a.atttypid, a.atttypmod),
                       coalesce(col_description(c.oid, a.attnum), '')
                FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                WHERE c.relnamespace = 'semantic'::regnamespace ORDER BY c.relname, a.attnum
                """, logger: TestDatabase.logger)
            for try await (view, comment, column, type, columnComment) in rows.decode((String, String, String, String, String).self) {
                views[view, default: (comment, [])].columns.append(SemanticLayer.Column(name: column, type: type, comment: columnComment))
            }
            return views
        }
        #expect(Set(live.keys) == SemanticLayer.viewNames)
        for view in SemanticLayer.views {
            #expect(live[view.name]?.comment == view.comment, "\(view.name)")
            #expect(live[view.name]?.columns == view.columns, "\(view.name)")
        }
    }

    @Test func eachViewShowsOnlyTheTenantsOwnRowsAndNoLearnerSecret() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        var seenOwn = false
        for view in SemanticLayer.views {
            let result = try await Self.run("SELECT * FROM semantic.\(view.name)", as: fixture.a, handle)
            let text = Self.text(result)
            #expect(result.columns.map(\.name) == view.columns.map(\.name))
            #expect(!text.contains(fixture.b.canary), "\(view.name) shows tenant B's canary")
            // The canary learner's xAPI actor is an e-mail address: no view carries it.
            #expect(!text.contains("mailto:") && !text.contains("@fixture.example"), "\(view.name) shows a learner's actor")
            seenOwn = seenOwn || text.contains(fixture.a.canary)
        }
        #expect(seenOwn)
    }

    /// The monthly views (migration 34) answer what the daily view summed by month answers, in each tenant's SQL.
    @Test func theMonthlyViewsAreTheDailyOutcomesSummedByMonth() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        for member in [fixture.a, fixture.b] {
            let courses = try await Self.run("""
                SELECT month, course_id, cohort, region, enrolled, completed FROM semantic.monthly_course_outcomes ORDER BY 1, 2, 3, 4
                """, as: member, handle)
            let coursesFromDays = try await Self.run("""
                SELECT date_trunc('month', day)::date AS month, course_id, cohort, region, sum(enrollments)::int AS enrolled,
                       coalesce(sum(enrollments) FILTER (WHERE days_to_complete IS NOT NULL), 0)::int AS completed
                FROM semantic.daily_enrollment_outcomes GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                """, as: member, handle)
            let times = try await Self.run("""
                SELECT month, course_id, region, days_to_complete, completions FROM semantic.monthly_completion_times ORDER BY 1, 2, 3, 4
                """, as: member, handle)
            let timesFromDays = try await Self.run("""
                SELECT date_trunc('month', day)::date AS month, course_id, region, days_to_complete, sum(enrollments)::int AS completions
                FROM semantic.daily_enrollment_outcomes WHERE days_to_complete IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                """, as: member, handle)
            #expect(!courses.rows.isEmpty && !times.rows.isEmpty, "the fixture's enrollment is in the monthly sums")
            #expect(Self.text(courses) == Self.text(coursesFromDays))
            #expect(Self.text(times) == Self.text(timesFromDays))
            // The fixture's enrollment carries the member's canary as its cohort: only its own.
            let other = member.canary == fixture.a.canary ? fixture.b : fixture.a
            #expect(Self.text(courses).contains(member.canary) && !Self.text(courses).contains(other.canary))
        }
    }

    /// Attacks run as the sandbox with the parser guard off: each must fail, or return nothing of tenant B.
    static let refusedBySandbox = [
        // Tables under the layer, secrets, the server's functions: no USAGE on app or app_private.
        "SELECT * FROM app.statements",
        "SELECT actor_key FROM app.learners",
        "SELECT * FROM app_private.settings",
        "SELECT * FROM app.runtime_keys()",
        "SELECT app.learner_key('x')",
        // Forging the context or the role inside a SELECT (SECURITY.md): set_config is not the sandbox's.
        "SELECT set_config('app.tenant_ctx', 'x', true)",
        "SELECT * FROM semantic.statements, LATERAL (SELECT set_config('role', 'tenantscope_tenant', true) OFFSET 0) x",
        "SELECT set_config('role', 'none', true)",
        "SELECT pg_notify('c', 'x')",
        "SELECT pg_advisory_lock(1)",
        // Writes: the transaction is read-only and the sandbox holds SELECT only.
        "DELETE FROM semantic.courses",
        "CREATE TEMP TABLE stolen AS SELECT * FROM semantic.statements",
        "SELECT * INTO stolen FROM semantic.statements",
        "SELECT * FROM semantic.statements FOR UPDATE",
        "COPY (SELECT 1) TO '/tmp/x'",
        // Session-level settings would outlive the transaction on the pooled connection: as a subquery they
        // cannot even be parsed.
        "SET ROLE tenantscope_tenant",
        "RESET ROLE",
        "SET app.tenant_ctx = 'forged'",
        "SET SESSION AUTHORIZATION tenantscope",
        "EXPLAIN SELECT * FROM semantic.statements",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
    ]

    /// One fixture for the whole corpus (many tenants created in parallel only slow the suite down).
    @Test func theSandboxCannotLeaveTheLayer() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        for sql in Self.refusedBySandbox {
            do {
                let result = try await Self.run(sql, as: fixture.a, handle)
                Issue.record("\(sql) ran: \(Self.text(result).prefix(200))")
            } catch let error as SQLExecutionError {
                #expect(!error.message.contains(fixture.b.canary))
                #expect(["42501", "25006", "42P01", "0A000", "42883", "42601"].contains(error.sqlState ?? ""), "\(sql): \(error.sqlState ?? "-") \(error.message)")
            }
            // The pooled connection is still clean: a session-level SET ROLE would make this fail.
            let next = try await Self.run("SELECT count(*) FROM semantic.courses", as: fixture.b, handle)
            #expect(next.rows.count == 1, "after \(sql)")
        }
    }

    /// The sandbox is set in the transaction's first statement, with the tenant scope (architecture decision 62): four
    /// exchanges for an ad-hoc query (BEGIN, the scope, the query, COMMIT), and nothing of it left after COMMIT.
    @Test func theSandboxIsSetWithTheScopeInOneStatement() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let recorder = LogRecorder()
        let sandbox = ScopedDatabase.Sandbox(workMem: "2MB", tempFileLimit: "3MB")
        try await ScopedReadFunctionTests.withRecordedConnection(handle, recorder) { connection in
            var seen: (String, String, String, String)?
            let exchanges = try await ScopedReadFunctionTests.exchanges(recorder) {
                seen = try await handle.database.sessions.run(.tenant(Self.analyst(fixture.a)), on: connection, access: .readOnly,
                                                              statementTimeout: nil, sandbox: sandbox, logger: TestDatabase.logger) { scoped in
                    try await scoped.query("""
                        SELECT current_user::text, current_setting('search_path'), current_setting('work_mem'), current_setting('temp_file_limit')
                        """).collect().first!.decode((String, String, String, String).self)
                }
            }
            #expect(seen?.0 == "tenantscope_sandbox")
            #expect(seen?.1 == "semantic, pg_catalog, pg_temp")
            #expect(seen?.2 == "2MB" && seen?.3 == "3MB")
            #expect(exchanges == 4)
            let after = try await connection.query("""
                SELECT current_user::text, current_setting('search_path'), current_setting('work_mem'), current_setting('temp_file_limit')
                """, logger: TestDatabase.logger).collect().first!.decode((String, String, String, String).self)
            #expect(after.0 == handle.database.tenantEndpoint.username && after.1 != "semantic, pg_catalog, pg_temp")
            #expect(after.2 != "2MB" && after.3 != "3MB")
        }
    }

    /// Queries the sandbox may run (they read PostgreSQL's own catalog or settings, or try to close the
    /// subquery early) and that still show nothing of another tenant.
    static let harmlessInTheSandbox = [
        "SELECT * FROM pg_stat_activity",
        "SELECT query FROM pg_stat_activity WHERE query IS NOT NULL",
        "SELECT current_setting('app.tenant_ctx')",
        "SELECT * FROM semantic.statements WHERE verb_id IS NOT NULL OR 1 = 1",
        "SELECT 1) AS x, semantic.statements s WHERE (true",
    ]

    @Test func whatTheSandboxMayRunShowsNothingOfAnotherTenant() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        for sql in Self.harmlessInTheSandbox {
        do {
            let result = try await Self.run(sql, as: fixture.a, handle)
            #expect(!Self.text(result).contains(fixture.b.canary), "\(sql)")
        } catch let error as SQLExecutionError {
            #expect(!error.message.contains(fixture.b.canary))
        }
        // The connection goes back to the pool clean: the next tenant transaction is still tenant A's only.
        let after = try await Self.run("SELECT count(*) FROM semantic.courses WHERE course_iri LIKE '%' || '\(fixture.b.canary)' || '%'", as: fixture.a, handle)
        #expect(after.rows == [[.integer(0)]])
        }
    }

    @Test func theRowCapTruncatesAndTheTimeLimitStops() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let capped = try await Self.run("SELECT g FROM generate_series(1, 50) g", as: fixture.a, handle, limits: .init(rowCap: 10))
        #expect(capped.rows.count == 10 && capped.truncated)
        let whole = try await Self.run("SELECT g FROM generate_series(1, 10) g", as: fixture.a, handle, limits: .init(rowCap: 10))
        #expect(whole.rows.count == 10 && !whole.truncated)
        // Bytes as well as rows (probe 37: 1,000 rows of a megabyte held the server at 2.9 GB): the answer is cut at the
        // row that passes its byte cap, and a row above the row cap is refused before PostgreSQL sends it.
        let wide = try await Self.run("SELECT repeat('x', 1000) AS x FROM generate_series(1, 50) g", as: fixture.a, handle,
                                      limits: .init(rowBytes: 2000, answerBytes: 10_000))
        // 1,003 bytes a row as the JSON answer holds it (below): the tenth passes the cap.
        #expect(wide.truncated && wide.rows.count == 9, "\(wide.rows.count) rows")
        // The cap counts the answer as encoded: a control character is six bytes of JSON (\u0001), so rows of 1,000 of
        // them, 1,000 bytes each on the wire, fill the 10,000 bytes after one row.
        let escaped = try await Self.run("SELECT repeat(chr(1), 1000) AS x FROM generate_series(1, 50) g", as: fixture.a, handle,
                                         limits: .init(rowBytes: 2000, answerBytes: 10_000))
        #expect(escaped.truncated && escaped.rows.count == 1, "\(escaped.rows.count) rows")
        do {
            _ = try await Self.run("SELECT repeat('x', 5000) AS x", as: fixture.a, handle, limits: .init(rowBytes: 2000))
            Issue.record("a row over the row cap was sent")
        } catch let error as SQLExecutionError {
            #expect(error.sqlState == "54000" && error.message.contains("more than the 2000 bytes a row may take"), "\(error.message)")
        }
        // Within both caps nothing changes.
        let fits = try await Self.run("SELECT repeat('x', 1000) AS x FROM generate_series(1, 5) g", as: fixture.a, handle,
                                      limits: .init(rowBytes: 2000, answerBytes: 10_000))
        #expect(fits.rows.count == 5 && !fits.truncated)
        await #expect(throws: SQLExecutionError.self) {
            try await Self.run("SELECT pg_sleep(5)", as: fixture.a, handle, limits: .init(statementTimeout: .milliseconds(300)))
        }
        do {
            _ = try await Self.run("SELECT pg_sleep(5)", as: fixture.a, handle, limits: .init(statementTimeout: .milliseconds(300)))
        } catch let error as SQLExecutionError {
            #expect(error.sqlState == "57014" && error.message.contains("time limit"))
        }
        // The temp-file limit is the sandbox's: a sort bigger than work_mem and the limit is stopped.
        do {
            _ = try await Self.run("SELECT g FROM generate_series(1, 3000000) g ORDER BY md5(g::text)", as: fixture.a, handle,
                                   limits: .init(statementTimeout: .seconds(30), workMem: "64kB", tempFileLimit: "1MB"))
            Issue.record("the sort ran past temp_file_limit")
        } catch let error as SQLExecutionError {
            #expect(error.sqlState == "53400", "\(error.sqlState ?? "-")")
        }
    }

    @Test func typesAreReturnedFaithfullyOrRefused() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let result = try await Self.run("""
            SELECT 1 AS i, 2.5::float8 AS f, 1.25::numeric AS n, 'x' AS t, true AS b, NULL::text AS z,
                   DATE '2026-01-02' AS d, TIMESTAMPTZ '2026-01-02 03:04:05+00' AS ts, '6f1c0b9e-0000-4000-8000-000000000001'::uuid AS u
            """, as: fixture.a, handle)
        #expect(result.columns.map(\.name) == ["i", "f", "n", "t", "b", "z", "d", "ts", "u"])
        #expect(result.rows == [[.integer(1), .number(2.5), .number(1.25), .text("x"), .bool(true), .null, .text("2026-01-02"),
                                 .text("2026-01-02T03:04:05.000Z"), .text("6f1c0b9e-0000-4000-8000-000000000001")]])
        await #expect(throws: SQLExecutionError.self) {
            try await Self.run("SELECT interval '1 day'", as: fixture.a, handle)
        }
    }

    @Test func errorsNameNothingUnderTheLayer() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        for sql in ["SELECT actor_key FROM semantic.statements", "SELECT nope FROM semantic.learners", "SELECT * FROM semantic.statements WHERE"] {
            do {
                _ = try await Self.run(sql, as: fixture.a, handle)
                Issue.record("\(sql) ran")
            } catch let error as SQLExecutionError {
                #expect(!error.message.contains("app.") && !error.message.contains("tenantscope"), "\(error.message)")
                #expect(error.position != nil || error.sqlState == "42703", "\(sql): \(error)")
            }
        }
    }
}

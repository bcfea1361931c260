import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// `POST /api/v1/sql` over HTTP: roles, formats, limits, the audit row, and the attack corpus, once with the
/// parser guard (refused, nothing executed) and once without it (the sandbox alone still shows nothing of
/// tenant B).
@Suite(.database) struct SQLHTTPTests {
    func withApp(guardMode: GuardedSQLService.GuardMode = .enforced, limits: SQLSandbox.Limits = .init(),
                 _ body: @Sendable (any TestClientProtocol, TwoTenants) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        var configuration = ServerConfiguration(port: 0, rollupInterval: nil)
        configuration.sqlGuard = guardMode
        configuration.sqlLimits = limits
        let app = buildApplication(database: database, configuration: configuration, tokens: try await TestTokens.verifier(for: database),
                                   catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
        try await app.test(.router) { client in try await body(client, fixture) }
    }

    static func headers(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }

    static func body(_ sql: String, format: String? = nil) -> ByteBuffer {
        var members: JSONObject = ["sql": .string(sql)]
        if let format { members["format"] = .string(format) }
        return ByteBuffer(string: JSONValue.object(members).jsonText)
    }

    @discardableResult
    static func post(_ client: any TestClientProtocol, _ token: String, _ sql: String, format: String? = nil) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        try await client.execute(uri: "/api/v1/sql", method: .post, headers: headers(token), body: body(sql, format: format)) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }

    @Test func anAnalystQueriesTheirOwnTenantInJSONAndCSV() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let (status, body, _) = try await Self.post(client, token, "SELECT course_iri, title FROM courses ORDER BY 1")
            #expect(status == .ok, "\(body)")
            #expect(body.contains(fixture.a.canary) && !body.contains(fixture.b.canary))
            #expect(body.contains("\"columns\":[{\"name\":\"course_iri\",\"type\":\"TEXT\"}") || body.contains("\"name\":\"course_iri\""))
            #expect(body.contains("\"truncated\":false") && body.contains("\"tenant_id\":\"\(fixture.a.tenant.id)\""))
            let (csvStatus, csv, headers) = try await Self.post(client, token, "SELECT title, 1 AS n FROM courses", format: "csv")
            #expect(csvStatus == .ok && csv.hasPrefix("title,n\r\nCanary course,1\r\n"), "\(csv)")
            #expect(headers[HTTPField.Name("X-TenantScope-Truncated")!] == "false")
            // Admins may too.
            let admin = try await TestTokens.tenant(fixture.a.tenant.id, role: .admin)
            #expect(try await Self.post(client, admin, "SELECT 1").0 == .ok)
        }
    }

    /// Values JSON has no form for are a 400 asking for a cast to text, and the server goes on: a numeric beyond what
    /// PostgresNIO's Decimal holds (1e200) and an infinite timestamp each aborted the whole process, and an infinite
    /// double was a 500. What JSON can carry, at the edges of what it can, comes back as it is.
    @Test func valuesJSONCannotCarryAreRefusedAndTheEdgesItCanAreAnswered() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let (status, body, _) = try await Self.post(client, token, """
                SELECT 1e200::numeric AS big, (-12.5)::numeric AS negative, 0.000123::numeric AS small, 0::numeric AS zero,
                       123456789012::numeric AS whole, 1e-300::float8 AS tiny, date '0001-01-01' AS first_day,
                       timestamptz '9999-12-31 23:59:59.999+00' AS last_instant
                """)
            #expect(status == .ok, "\(body)")
            #expect(body.contains(#""rows":[[1e+200,-12.5,0.000123,0,123456789012,1e-300,"0001-01-01","9999-12-31T23:59:59.999Z"]]"#), "\(body)")
            for sql in ["SELECT 1e400::numeric AS x", "SELECT 'NaN'::numeric AS x", "SELECT 'Infinity'::numeric AS x",
                        "SELECT '-Infinity'::float8 AS x", "SELECT 'NaN'::float4 AS x", "SELECT 'infinity'::timestamptz AS x",
                        "SELECT '-infinity'::timestamp AS x", "SELECT 'infinity'::date AS x", "SELECT date '10000-01-01' AS x"] {
                let (refused, message, _) = try await Self.post(client, token, sql)
                #expect(refused == .badRequest && message.contains("cast it to text (x::text)"), "\(sql): \(refused) \(message)")
            }
            #expect(try await Self.post(client, token, "SELECT 'infinity'::timestamptz::text AS x").0 == .ok)
        }
    }

    @Test func viewersPlatformTokensAndTenantFieldsAreRefused() async throws {
        try await withApp { client, fixture in
            let viewer = try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer)
            let (status, body, _) = try await Self.post(client, viewer, "SELECT 1")
            #expect(status == .forbidden && body.contains("analyst"))
            let platform = try await TestTokens.platform()
            #expect(try await Self.post(client, platform, "SELECT 1").0 == .forbidden)
            let analyst = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            for raw in [#"{"sql": "SELECT 1", "tenant_id": "\#(fixture.b.tenant.id)"}"#, #"{"sql": ""}"#, "not json", #"{"sql": "SELECT 1", "format": "xml"}"#, "[]",
                        // A member named twice: the body says one thing, not whatever its last member says.
                        #"{"sql": "SELECT 1", "sql": "SELECT 2"}"#] {
                try await client.execute(uri: "/api/v1/sql", method: .post, headers: Self.headers(analyst), body: ByteBuffer(string: raw)) { response in
                    #expect(response.status == .badRequest, "\(raw)")
                    #expect(!String(buffer: response.body).contains(fixture.b.canary))
                }
            }
            // A NUL in the text: the body's JSON parser refuses it (PostgreSQL's text cannot hold it).
            let (nulStatus, nulBody, _) = try await Self.post(client, analyst, "SELECT 1\u{0}")
            #expect(nulStatus == .badRequest && nulBody.contains("not valid JSON"), "\(nulBody)")
            try await client.execute(uri: "/api/v1/sql?tenant_id=\(fixture.b.tenant.id)", method: .post, headers: Self.headers(analyst),
                                     body: Self.body("SELECT 1")) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func theRowCapTruncatesAndEveryQueryIsAudited() async throws {
        try await withApp(limits: .init(rowCap: 5)) { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst, subject: "analyst-audited")
            let sql = "SELECT g FROM generate_series(1, 20) g"
            let (status, body, _) = try await Self.post(client, token, sql)
            #expect(status == .ok && body.contains("\"truncated\":true") && body.contains("\"row_count\":5"), "\(body)")
            let refused = "SELECT pg_sleep(30)"
            let (refusedStatus, refusedBody, _) = try await Self.post(client, token, refused)
            #expect(refusedStatus == .badRequest && refusedBody.contains("\"node\":\"FuncCall\"") && refusedBody.contains("\"position\":8"), "\(refusedBody)")
            let failing = "SELECT nope FROM learners"
            let (failingStatus, failingBody, _) = try await Self.post(client, token, failing)
            #expect(failingStatus == .badRequest && failingBody.contains("nope") && failingBody.contains("\"position\""), "\(failingBody)")

            let tail = try await TestDatabase.current.admin.auditTrail.tail(limit: 200, logger: TestDatabase.logger)
                .filter { $0.entry.action == "sql_query" && $0.entry.actor == "analyst-audited" }
            let byHash = Dictionary(tail.map { ($0.entry.parameters["sql_sha256"] ?? "", $0.entry) }, uniquingKeysWith: { a, _ in a })
            let ok = byHash[SQLGuard.sha256(sql)]
            #expect(ok?.outcome == "ok" && ok?.rowCount == 5 && ok?.parameters["sql"] == sql && ok?.parameters["duration_ms"] != nil
                && ok?.scopeTenant == fixture.a.tenant.id && ok?.parameters["truncated"] == "true")
            #expect(byHash[SQLGuard.sha256(refused)]?.outcome == "refused" && byHash[SQLGuard.sha256(refused)]?.parameters["refused"] == "FuncCall")
            #expect(byHash[SQLGuard.sha256(failing)]?.outcome == "error" && byHash[SQLGuard.sha256(failing)]?.parameters["sqlstate"] == "42703")
        }
    }

    /// Every escape of SECURITY.md and every forbidden function class, as a tenant-A analyst would send it.
    static let attacks: [String] = [
        // set_config inside a SELECT: tenant context and role.
        "SELECT set_config('app.tenant_ctx', 'x', true)",
        "SELECT s.* FROM statements s, LATERAL (SELECT set_config('app.tenant_ctx', 'x', true) OFFSET 0) f",
        "SELECT set_config('role', 'tenantscope_tenant', true)",
        "SELECT set_config('role', 'none', true), * FROM courses",
        // SET inside a function called from a SELECT.
        "SELECT query_to_xml('SET ROLE none', true, true, '')",
        "SELECT query_to_xml('SELECT * FROM app.courses', true, true, '')",
        // Reading the context.
        "SELECT current_setting('app.tenant_ctx', true)",
        // Session-level SET (survives the transaction on a pooled connection), SET ROLE, RESET ROLE.
        "SET app.tenant_ctx = 'forged'",
        "SET ROLE tenantscope_tenant",
        "RESET ROLE",
        "SET SESSION AUTHORIZATION tenantscope",
        // The tables under the views, the owner's functions, the secrets.
        "SELECT * FROM app.statements",
        "SELECT * FROM app.courses",
        "SELECT * FROM app_private.settings",
        "SELECT * FROM app.runtime_keys()",
        "SELECT app.tenant_directory()",
        // EXPLAIN leaks filtered rows and estimates.
        "EXPLAIN ANALYZE SELECT * FROM courses",
        "EXPLAIN SELECT * FROM courses",
        // Sequences, notify, advisory locks.
        "SELECT currval('x')",
        "SELECT lastval()",
        "SELECT pg_notify('tenantscope', 'x')",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_lock(1)",
        // dblink, files, large objects, sleep.
        "SELECT dblink('dbname=tenantscope', 'SELECT * FROM app.courses')",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_get(1)",
        "SELECT pg_sleep(10)",
        // Catalog volumes and activity.
        "SELECT relname, reltuples FROM pg_class",
        "SELECT * FROM pg_catalog.pg_stat_user_tables",
        "SELECT pg_relation_size('app.statements')",
        "SELECT query FROM pg_stat_activity",
        "SELECT * FROM information_schema.tables",
        // Writes, locks, COPY, SELECT INTO, several statements.
        "WITH d AS (DELETE FROM courses RETURNING *) SELECT * FROM d",
        "DELETE FROM courses",
        "SELECT * FROM courses FOR UPDATE",
        "COPY courses TO STDOUT",
        "SELECT * INTO stolen FROM courses",
        "SELECT 1; SELECT * FROM app.courses",
        // Casts that resolve catalog names, role names.
        "SELECT 'app.courses'::regclass::oid",
        "SELECT current_user, session_user",
    ]

    @Test func theParserRefusesEveryAttackAndRunsNothing() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst, subject: "analyst-attacker")
            for sql in Self.attacks {
                let (status, body, _) = try await Self.post(client, token, sql)
                #expect(status == .badRequest, "\(sql): \(status)")
                #expect(body.contains("\"node\""), "\(sql) was not refused by the guard: \(body)")
                #expect(!body.contains(fixture.b.canary))
            }
            // Nothing ran: every row of the attacker is a refusal, none has a row count.
            let rows = try await TestDatabase.current.admin.auditTrail.tail(limit: 500, logger: TestDatabase.logger)
                .filter { $0.entry.action == "sql_query" && $0.entry.actor == "analyst-attacker" }
            #expect(rows.count == Self.attacks.count && rows.allSatisfy { $0.entry.outcome == "refused" && $0.entry.rowCount == nil })
        }
    }

    /// The second layer: the same corpus with the guard off (plus ways to read every row) never returns tenant
    /// B's canary, never a 500, and leaves every pooled connection usable.
    @Test func withoutTheParserTheSandboxStillShowsNothingOfTenantB() async throws {
        try await withApp(guardMode: .offForTesting) { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let everything = SemanticLayer.views.map { "SELECT * FROM semantic.\($0.name)" } + [
                "SELECT * FROM semantic.statements WHERE true OR object_id LIKE '%'",
                "SELECT row_to_json(c)::text FROM semantic.courses c",
            ]
            for sql in Self.attacks + everything {
                let (status, body, _) = try await Self.post(client, token, sql)
                #expect(status == .ok || status == .badRequest, "\(sql): \(status) \(body)")
                #expect(!body.contains(fixture.b.canary), "\(sql) showed tenant B's canary")
                // Refusals by the database name nothing under the layer.
                if status == .badRequest { #expect(!body.contains("app_private") && !body.contains("tenantscope_"), "\(sql): \(body)") }
                let (next, nextBody, _) = try await Self.post(client, token, "SELECT count(*) AS n FROM courses")
                #expect(next == .ok && nextBody.contains("[[1]]"), "after \(sql): \(nextBody)")
            }
            // The views do show tenant A its own rows: the test would see B's canary if RLS were off.
            let (_, own, _) = try await Self.post(client, token, "SELECT course_iri FROM semantic.courses")
            #expect(own.contains(fixture.a.canary))
        }
    }
}

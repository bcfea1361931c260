import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Reviewed custom reports: draft → previewed → approved, per tenant.
@Suite(.database) struct CustomReportHTTPTests {
    func withApp(_ body: @Sendable (any TestClientProtocol, TwoTenants) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil), tokens: try await TestTokens.verifier(for: database),
                                   catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
        try await app.test(.router) { client in try await body(client, fixture) }
    }

    static func send(_ client: any TestClientProtocol, _ token: String, _ method: HTTPRequest.Method, _ uri: String,
                     _ body: String? = nil) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                                 body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, String(buffer: response.body))
        }
    }

    @Test func aReportIsDraftedPreviewedApprovedAndThenRunByItsTenantOnly() async throws {
        try await withApp { client, fixture in
            let admin = try await TestTokens.tenant(fixture.a.tenant.id, role: .admin, subject: "admin-a")
            let viewer = try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer)
            let otherAdmin = try await TestTokens.tenant(fixture.b.tenant.id, role: .admin)
            let draft = #"{"name": "course_list", "title": "Courses", "sql": "SELECT course_iri FROM courses ORDER BY 1"}"#

            #expect(try await Self.send(client, viewer, .post, "/api/v1/custom-reports", draft).0 == .forbidden)
            let refused = try await Self.send(client, admin, .post, "/api/v1/custom-reports",
                                              #"{"name": "bad", "title": "Bad", "sql": "SELECT * FROM app.courses"}"#)
            #expect(refused.0 == .badRequest && refused.1.contains("RangeVar"))
            let nul = try await Self.send(client, admin, .post, "/api/v1/custom-reports", #"{"name": "x", "title": "a\u0000b", "sql": "SELECT 1"}"#)
            // A member named twice is refused, not decided by which comes last.
            let twice = try await Self.send(client, admin, .post, "/api/v1/custom-reports", #"{"name": "dupk", "name": "dupk2", "title": "T", "sql": "SELECT 1"}"#)
            #expect(twice.0 == .badRequest, "\(twice.1)")
            #expect(twice.1.contains("'name' is given twice"), "the refusal names the member: \(twice.1)")
            // A name ending in a line break passed a `$`-anchored check that PostgreSQL's CHECK refused (a 500).
            for name in [#"abc\n"#, #"abc\r\n"#, #"abc\u2028"#, #"abc\u0085"#] {
                let refusedName = try await Self.send(client, admin, .post, "/api/v1/custom-reports", #"{"name": "\#(name)", "title": "T", "sql": "SELECT 1"}"#)
                #expect(refusedName.0 == .badRequest && refusedName.1.contains("custom report name"), "\(name): \(refusedName.1)")
            }
            #expect(nul.0 == .badRequest)
            let (created, createdBody) = try await Self.send(client, admin, .post, "/api/v1/custom-reports", draft)
            #expect(created == .created && createdBody.contains("\"state\":\"draft\""), "\(createdBody)")

            // Not approved: hidden from viewers, not runnable, not approvable before a preview.
            #expect(!(try await Self.send(client, viewer, .get, "/api/v1/custom-reports").1.contains("course_list")))
            #expect(try await Self.send(client, viewer, .get, "/api/v1/custom-reports/course_list").0 == .notFound)
            #expect(try await Self.send(client, admin, .get, "/api/v1/custom-reports/course_list").0 == .conflict)
            #expect(try await Self.send(client, admin, .post, "/api/v1/custom-reports/course_list/approve").0 == .conflict)

            // The preview shows the scope and the SQL as executed, and the tenant's own rows only.
            let (previewed, preview) = try await Self.send(client, admin, .post, "/api/v1/custom-reports/course_list/preview")
            #expect(previewed == .ok, "\(preview)")
            #expect(preview.contains("\"tenant_id\":\"\(fixture.a.tenant.id)\"") && preview.contains("tenantscope_sandbox")
                && preview.contains("SELECT * FROM (\\nSELECT course_iri FROM courses ORDER BY 1\\n) AS q WHERE semantic.answer_row_fits(")
                && preview.contains("LIMIT 1001"), "\(preview)")
            #expect(preview.contains(fixture.a.canary) && !preview.contains(fixture.b.canary))

            let (approved, approvedBody) = try await Self.send(client, admin, .post, "/api/v1/custom-reports/course_list/approve")
            #expect(approved == .ok && approvedBody.contains("\"approved_by\":\"admin-a\""), "\(approvedBody)")

            // Now every user of tenant A can list and run it; tenant B cannot see it.
            #expect(try await Self.send(client, viewer, .get, "/api/v1/custom-reports").1.contains("course_list"))
            let (ran, rows) = try await Self.send(client, viewer, .get, "/api/v1/custom-reports/course_list")
            #expect(ran == .ok && rows.contains(fixture.a.canary) && !rows.contains(fixture.b.canary), "\(rows)")
            #expect(!(try await Self.send(client, otherAdmin, .get, "/api/v1/custom-reports").1.contains("course_list")))
            #expect(try await Self.send(client, otherAdmin, .get, "/api/v1/custom-reports/course_list").0 == .notFound)

            // Changing the SQL puts it back to draft: it must be previewed and approved again.
            _ = try await Self.send(client, admin, .post, "/api/v1/custom-reports",
                                    #"{"name": "course_list", "title": "Courses", "sql": "SELECT title FROM courses"}"#)
            #expect(try await Self.send(client, viewer, .get, "/api/v1/custom-reports/course_list").0 == .notFound)
            #expect(try await Self.send(client, admin, .post, "/api/v1/custom-reports/course_list/approve").0 == .conflict)

            let audit = try await TestDatabase.current.admin.auditTrail.tail(limit: 300, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "custom_report_approved" && $0.entry.actor == "admin-a" })
            #expect(audit.contains { $0.entry.action == "sql_query" && $0.entry.report == "custom:course_list" && $0.entry.parameters["via"] == "custom-report" })
        }
    }

    /// Drafts, previews and approves `name` in `member`'s tenant as `admin`.
    static func approve(_ client: any TestClientProtocol, admin: String, name: String, sql: String) async throws {
        let body = #"{"name": "\#(name)", "title": "Report \#(name)", "sql": "\#(sql)"}"#
        #expect(try await send(client, admin, .post, "/api/v1/custom-reports", body).0 == .created)
        #expect(try await send(client, admin, .post, "/api/v1/custom-reports/\(name)/preview").0 == .ok)
        #expect(try await send(client, admin, .post, "/api/v1/custom-reports/\(name)/approve").0 == .ok)
    }

    @Test func theDebugModeShowsAdminsThePlanAndTheScopeItRanIn() async throws {
        try await withApp { client, fixture in
            let admin = try await TestTokens.tenant(fixture.a.tenant.id, role: .admin, subject: "admin-a")
            let analyst = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let viewer = try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer)
            let query = #"{"sql": "SELECT course_iri FROM courses", "debug": true}"#

            let (status, body) = try await Self.send(client, admin, .post, "/api/v1/sql", query)
            #expect(status == .ok, "\(body)")
            let debug = try #require(XAPIJSON.object(body)["debug"]?.objectValue, "\(body)")
            let scope = try #require(debug["scope"]?.objectValue)
            #expect(scope["tenant_id"]?.stringValue == fixture.a.tenant.id.description && scope["role"]?.stringValue == "admin"
                && scope["database_role"]?.stringValue == "tenantscope_sandbox")
            #expect(debug["executed_sql"]?.stringValue
                    == "SELECT * FROM (\nSELECT course_iri FROM courses\n) AS q WHERE semantic.answer_row_fits(pg_catalog.pg_column_size(q), 1048576) LIMIT 1001")
            // The plan shows row-level security as PostgreSQL applies it: the tenant filter on the table read.
            let plan = try #require(debug["plan"]?.arrayValue).compactMap(\.stringValue)
            #expect(plan.contains { $0.contains("current_tenant()") }, "\(plan)")
            // No estimates: they come from statistics over every tenant's rows.
            #expect(!plan.isEmpty && !plan.contains { $0.contains("cost=") || $0.contains("rows=") }, "\(plan)")
            #expect(body.contains(fixture.a.canary) && !body.contains(fixture.b.canary))

            // Admins only, JSON only; a bad flag is a 400. Without it, no plan.
            #expect(try await Self.send(client, analyst, .post, "/api/v1/sql", query).0 == .forbidden)
            #expect(try await Self.send(client, admin, .post, "/api/v1/sql", #"{"sql": "SELECT 1", "debug": true, "format": "csv"}"#).0 == .badRequest)
            #expect(try await Self.send(client, admin, .post, "/api/v1/sql", #"{"sql": "SELECT 1", "debug": "yes"}"#).0 == .badRequest)
            #expect(!(try await Self.send(client, analyst, .post, "/api/v1/sql", #"{"sql": "SELECT 1"}"#).1.contains("\"debug\"")))

            // A custom report's preview and run take ?debug=true too.
            _ = try await Self.send(client, admin, .post, "/api/v1/custom-reports",
                                    #"{"name": "courses", "title": "Courses", "sql": "SELECT course_iri FROM courses"}"#)
            let preview = try await Self.send(client, admin, .post, "/api/v1/custom-reports/courses/preview?debug=true")
            #expect(preview.0 == .ok && preview.1.contains("\"plan\":[") && preview.1.contains("current_tenant()"), "\(preview.1)")
            #expect(!(try await Self.send(client, admin, .post, "/api/v1/custom-reports/courses/preview").1.contains("\"plan\"")))
            #expect(try await Self.send(client, admin, .post, "/api/v1/custom-reports/courses/approve").0 == .ok)
            let run = try await Self.send(client, admin, .get, "/api/v1/custom-reports/courses?debug=true")
            #expect(run.0 == .ok && run.1.contains("current_tenant()"), "\(run.1)")
            #expect(try await Self.send(client, viewer, .get, "/api/v1/custom-reports/courses?debug=true").0 == .forbidden)
            #expect(try await Self.send(client, admin, .get, "/api/v1/custom-reports/courses?debug=maybe").0 == .badRequest)

            // Probe 38: a refusal of the mode is on record as every query is, one `sql_query` row each.
            #expect(try await Self.send(client, viewer, .post, "/api/v1/sql", #"{"sql": "SELECT 'viewer-debug-probe'", "debug": true}"#).0 == .forbidden)
            #expect(try await Self.send(client, viewer, .post, "/api/v1/custom-reports/courses/preview").0 == .forbidden)
            let audit = try await TestDatabase.current.admin.auditTrail.tail(limit: 300, logger: TestDatabase.logger)
                .filter { $0.entry.scopeTenant == fixture.a.tenant.id && $0.entry.action == "sql_query" && $0.entry.outcome == "forbidden" }
            #expect(audit.contains { $0.entry.parameters["mode"] == "debug" && $0.entry.parameters["sql"] == "SELECT 'viewer-debug-probe'" })
            #expect(audit.contains { $0.entry.parameters["mode"] == "debug" && $0.entry.report == "custom:courses" && $0.entry.parameters["sql"] == nil })
            #expect(audit.contains { $0.entry.parameters["mode"] == "preview" && $0.entry.report == "custom:courses" })
            // The analyst's attempt above too.
            #expect(audit.contains { $0.entry.parameters["mode"] == "debug" && $0.entry.parameters["sql"] == "SELECT course_iri FROM courses" })
        }
    }

    /// Probe 38: the custom-report routes refuse a parameter they do not have (a `limit` was ignored and every row
    /// came back) and one given twice; an approved report approved again says so; text the guard refuses at saving
    /// is on record.
    @Test func customReportRoutesRefuseParametersTheyDoNotHave() async throws {
        try await withApp { client, fixture in
            let admin = try await TestTokens.tenant(fixture.a.tenant.id, role: .admin, subject: "admin-a")
            _ = try await Self.send(client, admin, .post, "/api/v1/custom-reports", #"{"name": "params", "title": "P", "sql": "SELECT 1 AS one"}"#)
            #expect(try await Self.send(client, admin, .post, "/api/v1/custom-reports/params/preview").0 == .ok)
            #expect(try await Self.send(client, admin, .post, "/api/v1/custom-reports/params/approve").0 == .ok)
            let again = try await Self.send(client, admin, .post, "/api/v1/custom-reports/params/approve")
            #expect(again.0 == .conflict && again.1.contains("already approved"), "\(again.1)")
            for uri in ["/api/v1/custom-reports/params?limit=1", "/api/v1/custom-reports/params?format=csv",
                        "/api/v1/custom-reports/params?debug=true&debug=false", "/api/v1/custom-reports?state=draft", "/api/v1/reports?x=1"] {
                let (status, body) = try await Self.send(client, admin, .get, uri)
                #expect(status == .badRequest && (body.contains("takes") || body.contains("twice")), "\(uri): \(body)")
            }
            #expect(try await Self.send(client, admin, .post, "/api/v1/custom-reports/params/preview?x=1").0 == .badRequest)
            #expect(try await Self.send(client, admin, .get, "/api/v1/custom-reports/params?debug=false").0 == .ok)
            // Text the guard refuses is not saved, and the attempt is on record.
            let refused = try await Self.send(client, admin, .post, "/api/v1/custom-reports",
                                              #"{"name": "refusedtext", "title": "R", "sql": "SELECT set_config('a', 'b', true)"}"#)
            #expect(refused.0 == .badRequest, "\(refused.1)")
            let audit = try await TestDatabase.current.admin.auditTrail.tail(limit: 200, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.scopeTenant == fixture.a.tenant.id && $0.entry.action == "custom_report_saved"
                && $0.entry.report == "custom:refusedtext" && $0.entry.outcome == "refused" })
        }
    }

    @Test func platformOperatorsListATenantsCustomReportsButNeverTheirSQLOrRows() async throws {
        try await withApp { client, fixture in
            let admin = try await TestTokens.tenant(fixture.a.tenant.id, role: .admin, subject: "admin-a")
            let platform = try await TestTokens.platform()
            // The SQL carries a canary of its own: the listing must not show the text.
            let secret = "secret-\(UUID().uuidString.prefix(8))"
            try await Self.approve(client, admin: admin, name: "named", sql: "SELECT course_iri, '\(secret)' AS tag FROM courses")

            let (status, body) = try await Self.send(client, platform, .get, "/api/v1/platform/tenants/\(fixture.a.tenant.slug)/custom-reports")
            #expect(status == .ok, "\(body)")
            #expect(body.contains("\"name\":\"named\"") && body.contains("\"state\":\"approved\"") && body.contains("sql_sha256"), "\(body)")
            // Names and titles are listed (the fixture's own report carries A's canary in its title); SQL never.
            #expect(!body.contains(secret) && !body.contains("SELECT") && !body.contains("custom-\(fixture.a.canary)"), "\(body)")
            #expect(body.contains("report-\(fixture.a.canary)") && !body.contains(fixture.b.canary), "\(body)")
            #expect(!(try await Self.send(client, platform, .get, "/api/v1/platform/tenants/\(fixture.b.tenant.slug)/custom-reports").1.contains("named")))
            #expect(try await Self.send(client, platform, .get, "/api/v1/platform/tenants/no-such-tenant/custom-reports").0 == .notFound)
            // A tenant token may not use the platform listing, and the platform token cannot run the report.
            #expect(try await Self.send(client, admin, .get, "/api/v1/platform/tenants/\(fixture.a.tenant.slug)/custom-reports").0 == .forbidden)
            #expect(try await Self.send(client, platform, .get, "/api/v1/custom-reports/named").0 == .forbidden)

            let audit = try await TestDatabase.current.admin.auditTrail.tail(limit: 100, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "tenant_custom_reports_listed" && $0.entry.scopeTenant == fixture.a.tenant.id })
        }
    }

    @Test func anApprovedReportPinnedByAnAdminIsAPanelOfItsTenantsDashboardOnly() async throws {
        try await withApp { client, fixture in
            let admin = try await TestTokens.tenant(fixture.a.tenant.id, role: .admin, subject: "admin-a")
            let viewer = try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer)
            let adminB = try await TestTokens.tenant(fixture.b.tenant.id, role: .admin)
            _ = try await Self.send(client, admin, .post, "/api/v1/custom-reports",
                                    #"{"name": "pinned", "title": "Pinned courses", "sql": "SELECT course_iri FROM courses ORDER BY 1"}"#)
            // Only an approved report, only by an admin, only with a boolean.
            #expect(try await Self.send(client, admin, .put, "/api/v1/custom-reports/pinned/dashboard-panel", #"{"shown": true}"#).0 == .conflict)
            #expect(try await Self.send(client, admin, .post, "/api/v1/custom-reports/pinned/preview").0 == .ok)
            #expect(try await Self.send(client, admin, .post, "/api/v1/custom-reports/pinned/approve").0 == .ok)
            #expect(try await Self.send(client, viewer, .put, "/api/v1/custom-reports/pinned/dashboard-panel", #"{"shown": true}"#).0 == .forbidden)
            #expect(try await Self.send(client, admin, .put, "/api/v1/custom-reports/pinned/dashboard-panel", #"{"shown": 1}"#).0 == .badRequest)
            #expect(try await Self.send(client, adminB, .put, "/api/v1/custom-reports/pinned/dashboard-panel", #"{"shown": true}"#).0 == .notFound)

            let (cookieA, _) = try await DashboardHTTPTests.embed(client, "learning", token: viewer)
            let (cookieB, _) = try await DashboardHTTPTests.embed(client, "learning", token: adminB)
            #expect(!(try await DashboardHTTPTests.page(client, "/dashboards/learning", cookie: cookieA).1.contains("custom-pinned")))
            #expect(try await DashboardHTTPTests.page(client, "/dashboards/learning/custom/pinned.csv", cookie: cookieA).0 == .notFound)

            let (pinned, pinnedBody) = try await Self.send(client, admin, .put, "/api/v1/custom-reports/pinned/dashboard-panel", #"{"shown": true}"#)
            #expect(pinned == .ok && pinnedBody.contains("\"dashboard_panel\":true"), "\(pinnedBody)")
            let (status, page, _) = try await DashboardHTTPTests.page(client, "/dashboards/learning", cookie: cookieA)
            #expect(status == .ok && page.contains("id=\"custom-pinned\"") && page.contains("Pinned courses"))
            #expect(page.contains(fixture.a.canary) && !page.contains(fixture.b.canary))
            let (csvStatus, csv, csvHeaders) = try await DashboardHTTPTests.page(client, "/dashboards/learning/custom/pinned.csv", cookie: cookieA)
            #expect(csvStatus == .ok && csv.hasPrefix("course_iri\r\n") && csv.contains(fixture.a.canary) && !csv.contains(fixture.b.canary))
            #expect(csvHeaders[.contentDisposition]?.contains("pinned.csv") == true)

            // Tenant B's dashboard has no such panel, and B's session cannot download it.
            #expect(!(try await DashboardHTTPTests.page(client, "/dashboards/learning", cookie: cookieB).1.contains("custom-pinned")))
            #expect(try await DashboardHTTPTests.page(client, "/dashboards/learning/custom/pinned.csv", cookie: cookieB).0 == .notFound)

            // Edited, it leaves the dashboard until it is approved again.
            _ = try await Self.send(client, admin, .post, "/api/v1/custom-reports",
                                    #"{"name": "pinned", "title": "Pinned courses", "sql": "SELECT title FROM courses"}"#)
            #expect(!(try await DashboardHTTPTests.page(client, "/dashboards/learning", cookie: cookieA).1.contains("custom-pinned")))
            // A draft cannot be pinned, but it can be taken off, so it does not come back on approval.
            #expect(try await Self.send(client, admin, .put, "/api/v1/custom-reports/pinned/dashboard-panel", #"{"shown": true}"#).0 == .conflict)
            let (unpinned, unpinnedBody) = try await Self.send(client, admin, .put, "/api/v1/custom-reports/pinned/dashboard-panel", #"{"shown": false}"#)
            #expect(unpinned == .ok && unpinnedBody.contains("\"dashboard_panel\":false"), "\(unpinnedBody)")

            let audit = try await TestDatabase.current.admin.auditTrail.tail(limit: 200, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "custom_report_panel" && $0.entry.parameters["shown"] == "true" })
            #expect(audit.contains { $0.entry.action == "sql_query" && $0.entry.report == "custom:pinned" && $0.entry.parameters["via"] == "dashboard" })
        }
    }
}

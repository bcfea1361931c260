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
                && preview.contains("SELECT * FROM (\\nSELECT course_iri FROM courses ORDER BY 1\\n) AS q LIMIT 1001"), "\(preview)")
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
}

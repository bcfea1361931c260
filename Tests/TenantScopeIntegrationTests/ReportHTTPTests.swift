import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The report API over HTTP: authentication, the tenant-parameter guard, scope refusals and formats.
@Suite(.database) struct ReportHTTPTests {
    func withApp(_ body: @Sendable (any TestClientProtocol, TwoTenants) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil), tokens: try await TestTokens.verifier(for: database),
                                   catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
        try await app.test(.router) { client in try await body(client, fixture) }
    }

    static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)"]
    }

    @Test func aTenantTokenListsAndRunsTenantReports() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id)
            try await client.execute(uri: "/api/v1/reports", method: .get, headers: Self.bearer(token)) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains("\"cohort_comparison\"") && !body.contains("\"feature_adoption\""))
            }
            try await client.execute(uri: "/api/v1/reports/completion_rate_by_course", method: .get, headers: Self.bearer(token)) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains("\"kind\":\"tenant\"") && body.contains(fixture.a.tenant.id.description))
                #expect(body.contains("Canary course") && !body.contains(fixture.b.canary))
            }
            var csv = Self.bearer(token)
            csv[.accept] = "text/csv"
            try await client.execute(uri: "/api/v1/reports/completion_rate_by_course", method: .get, headers: csv) { response in
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                #expect(String(buffer: response.body) == "course,enrolled,completed,completion_rate\r\nCanary course,1,1,1.0\r\n")
            }
        }
    }

    @Test func theLearnerDrillDownReportIsForTenantAdminsOnly() async throws {
        try await withApp { client, fixture in
            let viewer = try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer)
            let admin = try await TestTokens.tenant(fixture.a.tenant.id, role: .admin)
            try await client.execute(uri: "/api/v1/reports", method: .get, headers: Self.bearer(viewer)) { response in
                #expect(!String(buffer: response.body).contains("\"course_enrollments\""))
            }
            try await client.execute(uri: "/api/v1/reports", method: .get, headers: Self.bearer(admin)) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("\"course_enrollments\"") && body.contains("\"minimum_role\":\"admin\"") && body.contains("\"required\":true"))
            }
            let uri = "/api/v1/reports/course_enrollments?course=Canary+course"
            try await client.execute(uri: uri, method: .get, headers: Self.bearer(viewer)) { response in
                #expect(response.status == .forbidden && !String(buffer: response.body).contains(fixture.a.canary))
            }
            try await client.execute(uri: uri, method: .get, headers: Self.bearer(admin)) { response in
                let body = String(buffer: response.body)
                #expect(response.status == .ok && body.contains("cohort-\(fixture.a.canary)") && !body.contains(fixture.b.canary))
            }
            try await client.execute(uri: "/api/v1/reports/course_enrollments", method: .get, headers: Self.bearer(admin)) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func namingATenantAnywhereIsRefused() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id)
            for uri in ["/api/v1/reports?tenant_id=\(fixture.b.tenant.id)", "/api/v1/reports/active_learners?tenant=\(fixture.b.tenant.id)",
                        "/api/v1/reports/active_learners?org=x", "/api/v1/platform/reports/feature_adoption?Tenant_Id=x"] {
                try await client.execute(uri: uri, method: .get, headers: Self.bearer(token)) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(!String(buffer: response.body).contains(fixture.b.canary))
                }
            }
            for header in ["X-Tenant-ID", "X-Organization-Id", "Tenant"] {
                var headers = Self.bearer(token)
                headers[HTTPField.Name(header)!] = fixture.b.tenant.id.description
                try await client.execute(uri: "/api/v1/reports/active_learners", method: .get, headers: headers) { response in
                    #expect(response.status == .badRequest, "\(header)")
                }
            }
        }
    }

    @Test func tokenFailuresAre401WithAReason() async throws {
        try await withApp { client, fixture in
            try await client.execute(uri: "/api/v1/reports", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("missing bearer token"))
            }
            let platformSignedTenant = try await TokenIssuer(hs256Secret: TestTokens.platformSecret, kid: "tenant-1", issuer: "tenantscope")
                .tenantToken(subject: "x", tenant: fixture.a.tenant.id, role: .viewer, audience: "tenantscope", lifetime: .seconds(60))
            for (token, reason) in [("garbage", "malformed token"), (platformSignedTenant, "invalid signature")] {
                try await client.execute(uri: "/api/v1/reports", method: .get, headers: Self.bearer(token)) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains(reason))
                    #expect(response.headers[.wwwAuthenticate] != nil)
                }
            }
        }
    }

    @Test func aTenantTokenOnThePlatformSurfaceIs403AndAudited() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .admin)
            try await client.execute(uri: "/api/v1/platform/reports/feature_adoption", method: .get, headers: Self.bearer(token)) { response in
                #expect(response.status == .forbidden)
            }
            let handle = try TestDatabase.current
            let tail = try await handle.admin.auditTrail.tail(limit: 200, logger: TestDatabase.logger)
            #expect(tail.contains { $0.entry.action == "platform_scope_refused" && $0.entry.scopeTenant == fixture.a.tenant.id })
            // A platform token works there, and not on the tenant surface.
            let platform = try await TestTokens.platform()
            try await client.execute(uri: "/api/v1/platform/reports/tenant_overview", method: .get, headers: Self.bearer(platform)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"kind\":\"platform\""))
            }
            try await client.execute(uri: "/api/v1/reports/cohort_comparison", method: .get, headers: Self.bearer(platform)) { response in
                #expect(response.status == .forbidden)
            }
            let after = try await handle.admin.auditTrail.tail(limit: 200, logger: TestDatabase.logger)
            #expect(after.contains { $0.entry.action == "tenant_scope_refused" && $0.entry.actor == "operator-1"
                && $0.entry.parameters["route"] == "GET /api/v1/reports/{name}" })
        }
    }

    @Test func badParametersAre400AndUnknownReports404() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id)
            try await client.execute(uri: "/api/v1/reports/active_learners?days=0", method: .get, headers: Self.bearer(token)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("parameter 'days'"))
            }
            try await client.execute(uri: "/api/v1/reports/nope", method: .get, headers: Self.bearer(token)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func theOpenAPIDocumentIsServed() async throws {
        try await withApp { client, _ in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.hasPrefix("openapi: 3.1.0") && body.contains("/api/v1/platform/reports/{name}"))
            }
        }
    }
}

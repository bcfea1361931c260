import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Embedding, dashboard sessions and the platform page over HTTP against real PostgreSQL.
@Suite(.database) struct DashboardHTTPTests {
    static let embedding = EmbeddingPolicy(allowedOrigins: ["https://lms.example.com"])

    func withApp(_ body: @Sendable (any TestClientProtocol, TwoTenants, TestDatabase) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil, embedding: Self.embedding),
                                   tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
        try await app.test(.router) { client in try await body(client, fixture, handle) }
    }

    /// Follows an embed link and returns the session cookie (name=value) and the response headers.
    static func embed(_ client: any TestClientProtocol, _ dashboard: String, token: String, headers: HTTPFields = [:]) async throws -> (cookie: String, headers: HTTPFields) {
        try await client.execute(uri: "/embed/\(dashboard)?token=\(token)", method: .get, headers: headers) { response in
            #expect(response.status == .seeOther, "\(String(buffer: response.body))")
            let setCookie = response.headers[.setCookie] ?? ""
            return (String(setCookie.split(separator: ";")[0]), response.headers)
        }
    }

    static func page(_ client: any TestClientProtocol, _ uri: String, cookie: String?) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = cookie }
        return try await client.execute(uri: uri, method: .get, headers: headers) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }

    @Test func anEmbedTokenBecomesAnHttpOnlySessionAndTheTokenLeavesTheURL() async throws {
        try await withApp { client, fixture, _ in
            let token = try await TestTokens.tenant(fixture.a.tenant.id)
            let (cookie, headers) = try await Self.embed(client, "learning", token: token)
            #expect(headers[.location] == "/dashboards/learning")
            let setCookie = headers[.setCookie] ?? ""
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && !setCookie.contains("Secure"))
            #expect(!cookie.contains(token) && !cookie.isEmpty)

            var https = HTTPFields()
            https[HTTPField.Name("X-Forwarded-Proto")!] = "https"
            let secure = try await Self.embed(client, "learning", token: token, headers: https)
            #expect(secure.headers[.setCookie]?.contains("Secure; SameSite=None") == true)

            let (status, body, pageHeaders) = try await Self.page(client, "/dashboards/learning", cookie: cookie)
            #expect(status == .ok)
            #expect(pageHeaders[.contentSecurityPolicy]?.contains("frame-ancestors 'self' https://lms.example.com") == true)
            #expect(pageHeaders[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            for panel in ["active-learners", "completion-rate", "time-to-complete", "cohort-comparison"] {
                #expect(body.contains("id=\"\(panel)\""), "\(panel) missing")
            }
            #expect(body.contains("cohort-\(fixture.a.canary)") && !body.contains(fixture.b.canary))
            #expect(!body.contains("<script") && !body.contains("http://") && !body.contains("https://fixture"))
            #expect(!body.contains(fixture.a.tenant.id.description), "the page never names the tenant id")
        }
    }

    @Test func withoutAValidSessionThereIsNoDashboard() async throws {
        try await withApp { client, fixture, _ in
            #expect(try await Self.page(client, "/dashboards/learning", cookie: nil).0 == .unauthorized)
            let (cookie, _) = try await Self.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id))
            var tampered = Array(cookie)
            tampered[cookie.count / 2] = tampered[cookie.count / 2] == "A" ? "B" : "A"
            #expect(try await Self.page(client, "/dashboards/learning", cookie: String(tampered)).0 == .unauthorized)
            // A session sealed with another key (another server) is refused too.
            let foreign = DashboardSessionSigner.random().seal(DashboardSession(
                principal: .tenantUser(TenantUser(subject: "x", tenant: fixture.b.tenant.id, role: .admin)), expires: Date().addingTimeInterval(600)))
            #expect(try await Self.page(client, "/dashboards/learning", cookie: "ts_session=\(foreign)").0 == .unauthorized)
            // Bad, platform or missing tokens do not open a tenant session.
            let tokenA = try await TestTokens.tenant(fixture.a.tenant.id)
            for uri in ["/embed/learning?token=not-a-token", "/embed/learning", "/embed/learning?token=\(tokenA)&tenant_id=\(fixture.b.tenant.id)"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .unauthorized || response.status == .badRequest, "\(uri)")
                    #expect(response.headers[.setCookie] == nil)
                }
            }
            // A valid token of the other surface is refused as that surface's routes refuse it: an audited 403 (probe 38: 401).
            let operatorName = "embed-probe-\(UUID().uuidString.prefix(8))"
            for uri in ["/embed/learning?token=\(try await TestTokens.platform(operatorName))", "/embed/platform?token=\(tokenA)"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .forbidden, "\(uri)")
                    #expect(response.headers[.setCookie] == nil)
                }
            }
            let audit = try await TestDatabase.current.admin.auditTrail.tail(limit: 300, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "tenant_scope_refused" && $0.entry.actor == operatorName
                && $0.entry.parameters["route"] == "GET /embed/learning" })
            #expect(audit.contains { $0.entry.action == "platform_scope_refused" && $0.entry.scopeTenant == fixture.a.tenant.id
                && $0.entry.parameters["route"] == "GET /embed/platform" })
        }
    }

    @Test func noFilterOrParameterCanCarryATenant() async throws {
        try await withApp { client, fixture, _ in
            let (cookie, _) = try await Self.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id))
            for uri in ["/dashboards/learning?tenant_id=\(fixture.b.tenant.id)", "/dashboards/learning?tenant=\(fixture.b.tenant.id)",
                        "/dashboards/learning?org=x", "/dashboards/learning?days=13", "/dashboards/learning?colour=red"] {
                let (status, body, _) = try await Self.page(client, uri, cookie: cookie)
                #expect(status == .badRequest, "\(uri)")
                #expect(!body.contains(fixture.b.canary))
            }
            let (status, body, _) = try await Self.page(client, "/dashboards/learning?days=7&course=Canary+course", cookie: cookie)
            #expect(status == .ok && body.contains("<option value=\"7\" selected>") && !body.contains(fixture.b.canary))
        }
    }

    @Test func thePlatformPageIsForPlatformSessionsAndPreviewsAreAudited() async throws {
        try await withApp { client, fixture, handle in
            let (platformCookie, headers) = try await Self.embed(client, "platform", token: try await TestTokens.platform("ops-1"))
            #expect(headers[.location] == "/platform/analytics")
            let (status, body, _) = try await Self.page(client, "/platform/analytics", cookie: platformCookie)
            #expect(status == .ok)
            #expect(body.contains("id=\"platform-growth\"") && body.contains("id=\"feature-adoption\"") && body.contains(fixture.a.tenant.slug.rawValue))

            let (tenantCookie, _) = try await Self.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id))
            #expect(try await Self.page(client, "/platform/analytics", cookie: tenantCookie).0 == .forbidden)
            #expect(try await Self.page(client, "/platform/preview/\(fixture.b.tenant.slug)", cookie: tenantCookie).0 == .forbidden)
            #expect(try await Self.page(client, "/dashboards/learning", cookie: platformCookie).0 == .forbidden)

            let preview = try await Self.page(client, "/platform/preview/\(fixture.b.tenant.slug)", cookie: platformCookie)
            #expect(preview.0 == .ok)
            #expect(preview.1.contains("class=\"banner\"") && preview.1.contains("tenant scope Fixture tenant (\(fixture.b.tenant.slug))"))
            #expect(preview.1.contains("cohort-\(fixture.b.canary)") && !preview.1.contains(fixture.a.canary))

            let audit = try await handle.admin.auditTrail.tail(limit: 500, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "tenant_preview" && $0.entry.actor == "ops-1" && $0.entry.scopeTenant == fixture.b.tenant.id })
            #expect(audit.contains { $0.entry.action == "platform_scope_refused" && $0.entry.scopeTenant == fixture.a.tenant.id })
        }
    }
}

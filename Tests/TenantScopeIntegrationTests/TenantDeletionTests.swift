import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// `DELETE /api/v1/platform/tenants/{slug}`: platform admins only, confirmed, audited, and thorough.
@Suite(.database) struct TenantDeletionTests {
    @Test func aPlatformAdminDeletesATenantAndEverythingItOwns() async throws {
        try await LRSFixture.with { client, fixture in
            let slug = fixture.a.tenant.slug.rawValue
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(), expect: .ok)
            var tenantAdmin = HTTPFields()
            tenantAdmin[.authorization] = "Bearer " + (try await TestTokens.tenant(fixture.a.tenant.id, role: .admin))
            try await XAPIConformanceTests.send(client, .delete, "/api/v1/platform/tenants/\(slug)?confirm=\(slug)", tenantAdmin, expect: .forbidden)

            var platform = HTTPFields()
            platform[.authorization] = "Bearer " + (try await TestTokens.platform("deleter"))
            try await XAPIConformanceTests.send(client, .delete, "/api/v1/platform/tenants/\(slug)", platform, expect: .badRequest)
            try await XAPIConformanceTests.send(client, .delete, "/api/v1/platform/tenants/\(slug)?confirm=other", platform, expect: .badRequest)
            // A confirmation given twice is not one (whichever value would count).
            try await XAPIConformanceTests.send(client, .delete, "/api/v1/platform/tenants/\(slug)?confirm=\(slug)&confirm=\(slug)", platform, expect: .badRequest)
            try await XAPIConformanceTests.send(client, .delete, "/api/v1/platform/tenants/no-such-tenant?confirm=no-such-tenant", platform, expect: .notFound)
            #expect(try await fixture.handle.database.tenants.find(slug: fixture.a.tenant.slug, logger: TestDatabase.logger) != nil)

            let deleted = try await XAPIConformanceTests.send(client, .delete, "/api/v1/platform/tenants/\(slug)?confirm=\(slug)", platform, expect: .ok)
            #expect(deleted.body.contains(fixture.a.tenant.id.description))
            #expect(try await fixture.handle.database.tenants.find(slug: fixture.a.tenant.slug, logger: TestDatabase.logger) == nil)
            // Its credentials went with it, its scope is refused at the gate, and nothing of it is left in any tenant table.
            try await XAPIConformanceTests.send(client, .get, "/xAPI/statements", fixture.a.headers, expect: .unauthorized)
            let refused = await #expect(throws: TenantScopeError.self) { _ = try await fixture.rows(fixture.a, "SELECT 1::text") }
            #expect(refused?.kind == .notFound)
            let tables = try await TwoTenants.tenantTables(fixture.handle)
            try await OneShotConnection.with(try await fixture.handle.superuserEndpoint(), logger: TestDatabase.logger) { connection in
                for table in tables {
                    let left = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) WHERE tenant_id = '\(fixture.a.tenant.id)'"),
                                                          logger: TestDatabase.logger).collect().first?.decode(Int.self)
                    #expect(left == 0, "\(table)")
                }
            }
            // The other tenant is untouched.
            try await XAPIConformanceTests.send(client, .get, "/xAPI/statements", fixture.b.headers, expect: .ok)

            let audit = try await fixture.handle.admin.auditTrail.tail(limit: 500, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "tenant_deleted" && $0.entry.actor == "deleter" && $0.entry.scopeTenant == fixture.a.tenant.id
                && $0.entry.outcome == "ok" })
            // Each refused attempt is on record too (probe 38): three unconfirmed, one for a slug that names no tenant.
            let refusals = audit.filter { $0.entry.action == "tenant_deleted" && $0.entry.actor == "deleter" && $0.entry.outcome != "ok" }
            #expect(refusals.filter { $0.entry.scopeTenant == fixture.a.tenant.id && $0.entry.parameters["slug"] == slug
                && $0.entry.outcome == "invalid" }.count == 3, "\(refusals.map(\.entry))")
            #expect(refusals.contains { $0.entry.scopeTenant == nil && $0.entry.parameters["slug"] == "no-such-tenant" && $0.entry.outcome == "not_found" })
            #expect(audit.contains { $0.entry.action == "platform_scope_refused" && $0.entry.scopeTenant == fixture.a.tenant.id
                && $0.entry.parameters["route"] == "DELETE /api/v1/platform/tenants/{slug}" })
        }
    }
}

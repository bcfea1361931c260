import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Every credential is checked against its tenant's current state: a deleted tenant, a revoked token or
/// an operator's session revocation ends every token and session derived from it at the next request
/// after the server's credential cache reloads (refreshed here at once instead of waiting its second).
@Suite(.database) struct CredentialLifecycleTests {
    struct World: Sendable {
        let client: any TestClientProtocol
        let fixture: TwoTenants
        let handle: TestDatabase
        let cache: CredentialCache
    }

    func withApp(_ body: @Sendable (World) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        let cache = CredentialCache(store: database.credentialState, horizon: .seconds(3600), logger: TestDatabase.logger)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil),
                                   tokens: try await TestTokens.verifier(status: cache), catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
        try await app.test(.router) { client in try await body(World(client: client, fixture: fixture, handle: handle, cache: cache)) }
    }

    static func get(_ world: World, _ uri: String, bearer: String? = nil, cookie: String? = nil) async throws -> (HTTPResponse.Status, String) {
        var headers = HTTPFields()
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if let cookie { headers[.cookie] = cookie }
        return try await world.client.execute(uri: uri, method: .get, headers: headers) { ($0.status, String(buffer: $0.body)) }
    }

    /// LRS credentials are remembered for their lifetime (decision 35): a revocation is seen once the
    /// remembered acceptance is older than that, and at once with a lifetime of zero. Only acceptances
    /// are kept: a wrong secret is never served from the cache.
    @Test func acceptedLRSCredentialsAreRememberedForTheirLifetimeOnly() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("lrs")), name: "LRS", logger: TestDatabase.logger)
        let credential = try await handle.admin.lrsKeys.create(tenant: tenant.id, label: nil, logger: TestDatabase.logger)
        let remembering = LRSCredentialCache(credentials: handle.database.lrsCredentials, lifetime: .seconds(3600))
        let checkingEveryTime = LRSCredentialCache(credentials: handle.database.lrsCredentials, lifetime: .zero)
        for cache in [remembering, checkingEveryTime] {
            #expect(try await cache.tenant(for: credential, logger: TestDatabase.logger) == tenant.id)
        }
        let wrong = LRSCredentialSecret(key: credential.key, secret: String(repeating: "0", count: 64))
        #expect(try await remembering.tenant(for: wrong, logger: TestDatabase.logger) == nil)

        #expect(try await handle.admin.lrsKeys.revoke(key: credential.key, logger: TestDatabase.logger) == tenant.id)
        #expect(try await checkingEveryTime.tenant(for: credential, logger: TestDatabase.logger) == nil)
        #expect(try await remembering.tenant(for: credential, logger: TestDatabase.logger) == tenant.id,
                "within its lifetime an acceptance is answered without the database")
    }

    /// A snapshot is as old as its load (decision 24's bound): a load sees what was committed before it began, so a
    /// revocation committed while a slow load waits is seen by the first check after that load, not an interval later.
    /// Dated when the load finished, the snapshot answered as fresh for another second (and a load can take 35 s).
    @Test func aSlowLoadsSnapshotIsAsOldAsTheLoad() async throws {
        let handle = try TestDatabase.current
        let cache = CredentialCache(store: handle.database.credentialState, horizon: .seconds(3600), refreshInterval: .seconds(1),
                                    logger: TestDatabase.logger)
        let jti = "slow-load-\(UUID())"
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            _ = try await connection.query("BEGIN", logger: TestDatabase.logger).collect()
            _ = try await connection.query("LOCK TABLE app_private.revoked_tokens IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger).collect()
            let load = Task { try await cache.refresh(logger: TestDatabase.logger) }
            var waiting = false
            for _ in 0..<600 where !waiting {
                waiting = try await connection.query("""
                    SELECT count(*) > 0 FROM pg_locks WHERE relation = 'app_private.revoked_tokens'::regclass AND NOT granted
                    """, logger: TestDatabase.logger).collect().first!.decode(Bool.self)
                if !waiting { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(waiting, "the load did not wait for the table within 60 s")
            _ = try await connection.query("INSERT INTO app_private.revoked_tokens (jti, reason) VALUES (\(jti), 'test')",
                                           logger: TestDatabase.logger).collect()
            try await Task.sleep(for: .milliseconds(1500))
            _ = try await connection.query("COMMIT", logger: TestDatabase.logger).collect()
            let loaded = try await load.value
            try #require(loaded.refusal(jti: jti, tenant: nil) == nil, "the load read the revocation: it began before the commit")
        }
        #expect(try await cache.refusal(jti: jti, tenant: nil, logger: TestDatabase.logger) == .revokedToken,
                "the snapshot of a load that began 1.5 s ago answered as fresh")
    }

    @Test func aTokenForATenantThatDoesNotExistIsRefused() async throws {
        try await withApp { world in
            let token = try await TestTokens.tenant(TenantID(UUID()), role: .admin)
            let (status, body) = try await Self.get(world, "/api/v1/reports", bearer: token)
            #expect(status == .unauthorized && body.contains("unknown tenant"))
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(token)"
            headers[XAPIRoutes.versionHeader] = "1.0.3"
            headers[.contentType] = "application/json"
            let write = try await world.client.execute(uri: "/xAPI/statements", method: .post, headers: headers,
                                                       body: ByteBuffer(string: XAPIJSON.statement())) { $0.status }
            #expect(write == .unauthorized, "a write for a tenant that does not exist is a 401, not a 500")
            #expect(try await Self.get(world, "/embed/learning?token=\(token)").0 == .unauthorized)
        }
    }

    @Test func deletingATenantEndsItsTokensSessionsAndEmbedLinks() async throws {
        try await withApp { world in
            let a = world.fixture.a.tenant
            let token = try await TestTokens.tenant(a.id, role: .admin)
            let (cookie, _) = try await DashboardHTTPTests.embed(world.client, "learning", token: token)
            #expect(try await Self.get(world, "/api/v1/reports", bearer: token).0 == .ok)
            #expect(try await Self.get(world, "/dashboards/learning", cookie: cookie).0 == .ok)

            #expect(try await world.handle.database.tenants.delete(slug: a.slug, logger: TestDatabase.logger) != nil)
            try await world.cache.refresh(logger: TestDatabase.logger)
            #expect(try await Self.get(world, "/api/v1/reports", bearer: token).0 == .unauthorized)
            #expect(try await Self.get(world, "/dashboards/learning", cookie: cookie).0 == .unauthorized)
            #expect(try await Self.get(world, "/embed/learning?token=\(token)").0 == .unauthorized)
            // The other tenant is untouched.
            let other = try await TestTokens.tenant(world.fixture.b.tenant.id)
            #expect(try await Self.get(world, "/api/v1/reports", bearer: other).0 == .ok)
        }
    }

    @Test func revokingTheEmbedTokenEndsTheSessionItOpened() async throws {
        try await withApp { world in
            let jti = "embed-\(UUID().uuidString.lowercased())"
            let token = try await TestTokens.tenant(world.fixture.a.tenant.id, jti: jti)
            let (cookie, _) = try await DashboardHTTPTests.embed(world.client, "learning", token: token)
            let untouched = try await DashboardHTTPTests.embed(world.client, "learning", token: try await TestTokens.tenant(world.fixture.a.tenant.id)).cookie
            #expect(try await Self.get(world, "/dashboards/learning", cookie: cookie).0 == .ok)

            try await world.handle.admin.credentials.revokeToken(jti, reason: "test", logger: TestDatabase.logger)
            try await world.cache.refresh(logger: TestDatabase.logger)
            #expect(try await Self.get(world, "/dashboards/learning", cookie: cookie).0 == .unauthorized)
            #expect(try await Self.get(world, "/api/v1/reports", bearer: token).0 == .unauthorized)
            #expect(try await Self.get(world, "/dashboards/learning", cookie: untouched).0 == .ok, "another token's session stands")
        }
    }

    @Test func anOperatorEndsATenantsOrOneUsersSessions() async throws {
        try await withApp { world in
            let tenant = world.fixture.a.tenant.id
            let ann = try await DashboardHTTPTests.embed(world.client, "learning", token: try await TestTokens.tenant(tenant, subject: "ann")).cookie
            let bob = try await DashboardHTTPTests.embed(world.client, "learning", token: try await TestTokens.tenant(tenant, subject: "bob")).cookie
            let otherTenant = try await DashboardHTTPTests.embed(world.client, "learning",
                                                                 token: try await TestTokens.tenant(world.fixture.b.tenant.id, subject: "ann")).cookie

            try await world.handle.admin.credentials.revokeSessions(tenant: tenant, subject: "ann", logger: TestDatabase.logger)
            try await world.cache.refresh(logger: TestDatabase.logger)
            #expect(try await Self.get(world, "/dashboards/learning", cookie: ann).0 == .unauthorized)
            #expect(try await Self.get(world, "/dashboards/learning", cookie: bob).0 == .ok)
            #expect(try await Self.get(world, "/dashboards/learning", cookie: otherTenant).0 == .ok)

            try await world.handle.admin.credentials.revokeSessions(tenant: tenant, subject: nil, logger: TestDatabase.logger)
            try await world.cache.refresh(logger: TestDatabase.logger)
            #expect(try await Self.get(world, "/dashboards/learning", cookie: bob).0 == .unauthorized)
            // A session opened after the revocation works.
            let fresh = try await DashboardHTTPTests.embed(world.client, "learning", token: try await TestTokens.tenant(tenant, subject: "ann")).cookie
            #expect(try await Self.get(world, "/dashboards/learning", cookie: fresh).0 == .ok)
        }
    }

    @Test func anLRSKeySubjectCannotBeClaimedByAToken() async throws {
        try await withApp { world in
            let token = try await TestTokens.tenant(world.fixture.a.tenant.id, role: .admin, subject: "lrs-key:lrs_0123456789abcdef0123")
            #expect(try await Self.get(world, "/api/v1/reports", bearer: token).0 == .unauthorized)
        }
    }
}

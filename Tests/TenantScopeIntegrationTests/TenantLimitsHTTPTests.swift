import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Per-tenant limits over HTTP, set the way an operator sets them (tier and override rows in the database):
/// a tenant that spends its API or LRS rate, or its concurrency, or whose tier spends its connection budget, is
/// refused with 429 while a tenant elsewhere is served. Each test fails when ``TenantLimitMiddleware`` is gone.
@Suite(.database) struct TenantLimitsHTTPTests {
    static let rateLimit = HTTPField.Name("RateLimit")!
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!

    /// `limits` runs before the server starts: the server loads every tenant's limits when it starts and then
    /// every few seconds, so a change made while it runs would race that load.
    func withApp(guardMode: GuardedSQLService.GuardMode = .enforced, rateWait: Duration = .zero, limits: @Sendable (TwoTenants) async throws -> Void,
                 _ body: @Sendable (any TestClientProtocol, TwoTenants) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        try await limits(fixture)
        try await serve(handle, fixture, guardMode: guardMode, rateWait: rateWait, body)
    }

    /// `rateWait` is zero unless a test is about it: a request over its rate is then refused at once.
    func serve<Fixture: Sendable>(_ handle: TestDatabase, _ fixture: Fixture, guardMode: GuardedSQLService.GuardMode = .enforced,
                                  rateWait: Duration = .zero,
                                  _ body: @Sendable (any TestClientProtocol, Fixture) async throws -> Void) async throws {
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        var configuration = ServerConfiguration(port: 0, rollupInterval: nil)
        configuration.sqlGuard = guardMode
        configuration.tenantLimits = .init(maximumWait: .milliseconds(300), rateWait: rateWait)
        let app = buildApplication(database: database, configuration: configuration, tokens: try await TestTokens.verifier(for: database),
                                   catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
        try await app.test(.router) { client in try await body(client, fixture) }
    }

    static func sql(_ client: any TestClientProtocol, _ token: String, _ sql: String) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        try await client.execute(uri: "/api/v1/sql", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                                 body: ByteBuffer(string: JSONValue.object(["sql": .string(sql)]).jsonText)) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }

    @Test func aTenantOverItsAPIRateGets429WithRateLimitFieldsWhileAnotherIsServed() async throws {
        let handle = try TestDatabase.current
        // A's override: 3 at once, then one per 1,000 s (no refill however slow the machine); B keeps the standard tier's 100 at once, 20/s.
        try await withApp(limits: { fixture in
            try await handle.admin.tiers.setOverride(.init(api: RatePolicy(perSecond: 0.001, burst: 3)), of: fixture.a.tenant.id,
                                                     logger: TestDatabase.logger)
        }) { client, fixture in
            let tokenA = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let tokenB = try await TestTokens.tenant(fixture.b.tenant.id, role: .analyst)
            for remaining in [2, 1] {
                let (status, body, headers) = try await Self.sql(client, tokenA, "SELECT 1 AS one")
                #expect(status == .ok, "\(body)")
                #expect(headers[Self.rateLimitPolicy] == "\"api\";q=3;w=3000")
                #expect(headers[Self.rateLimit]?.hasPrefix("\"api\";r=\(remaining);t=") == true, "\(headers)")
            }
            // A request the handler refuses spent its unit too, and its answer says so.
            let (badStatus, badBody, badHeaders) = try await Self.sql(client, tokenA, "")
            #expect(badStatus == .badRequest, "\(badBody)")
            #expect(badHeaders[Self.rateLimit]?.hasPrefix("\"api\";r=0;t=") == true, "\(badHeaders)")
            let (status, body, headers) = try await Self.sql(client, tokenA, "SELECT 1 AS one")
            #expect(status == .tooManyRequests && body.contains("API request rate is used up"), "\(status) \(body)")
            let retryAfter = try #require(headers[.retryAfter].flatMap(Int.init))
            // The next token is at most 1,000 s away: less by however long the requests above took.
            #expect((1...1000).contains(retryAfter), "Retry-After \(retryAfter)")
            #expect(headers[Self.rateLimit]?.hasPrefix("\"api\";r=0;") == true)

            let (otherStatus, otherBody, otherHeaders) = try await Self.sql(client, tokenB, "SELECT course_iri FROM courses")
            #expect(otherStatus == .ok && otherBody.contains(fixture.b.canary), "\(otherBody)")
            #expect(otherHeaders[Self.rateLimitPolicy] == "\"api\";q=100;w=5")
        }
    }

    /// A shared link's page runs its tenant's reports under its tenant's limits, like the dashboard it shows: a leaked
    /// link fetched in a loop is refused once the tenant's rate is spent, and another tenant's link is still served.
    /// The route learns its tenant from the link, so no route group's middleware applied them, and it skipped every limit.
    @Test func aSharedLinkSpendsItsTenantsRate() async throws {
        let handle = try TestDatabase.current
        try await withApp(limits: { fixture in
            try await handle.admin.tiers.setOverride(.init(api: RatePolicy(perSecond: 0.001, burst: 2)), of: fixture.a.tenant.id,
                                                     logger: TestDatabase.logger)
        }) { client, fixture in
            func link(_ member: TwoTenants.Member) async throws -> String {
                let scope = TenantScope(tenant: member.tenant.id, actor: "limits-test", role: .admin)
                let view = try await handle.database.savedViews.save(in: scope, name: "Shared", days: 30, course: nil, logger: TestDatabase.logger)
                return try #require(try await handle.database.savedViews.share(in: scope, view: view.id, lifetime: .seconds(3600),
                                                                               logger: TestDatabase.logger)).token
            }
            let (linkA, linkB) = (try await link(fixture.a), try await link(fixture.b))
            func open(_ token: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/shared/\(token)", method: .get) { $0.status }
            }
            #expect(try await open(linkA) == .ok)
            #expect(try await open(linkA) == .ok)
            #expect(try await open(linkA) == .tooManyRequests, "a shared link skipped its tenant's API rate")
            #expect(try await open(linkB) == .ok)
        }
    }

    /// With a rate wait, a tenant just over its rate is paced, not refused: three requests sent together under a
    /// burst of one and two a second are all answered, the last no sooner than its token (1 s on). A tenant
    /// whose next token is far beyond the wait is refused, but only when the wait is over, so a client that
    /// retries every 429 at once cannot turn refusals into load. Both fail with the wait at zero.
    @Test func aTenantJustOverItsRateIsPacedAndOneFarOverIsRefusedOnlyAfterTheWait() async throws {
        let handle = try TestDatabase.current
        try await withApp(rateWait: .seconds(2), limits: { fixture in
            try await handle.admin.tiers.setOverride(.init(api: RatePolicy(perSecond: 2, burst: 1)), of: fixture.a.tenant.id,
                                                     logger: TestDatabase.logger)
            try await handle.admin.tiers.setOverride(.init(api: RatePolicy(perSecond: 0.001, burst: 1)), of: fixture.b.tenant.id,
                                                     logger: TestDatabase.logger)
        }) { client, fixture in
            let tokenA = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let tokenB = try await TestTokens.tenant(fixture.b.tenant.id, role: .analyst)
            let clock = ContinuousClock()
            let start = clock.now
            async let first = Self.sql(client, tokenA, "SELECT 1 AS one")
            async let second = Self.sql(client, tokenA, "SELECT 1 AS one")
            async let third = Self.sql(client, tokenA, "SELECT 1 AS one")
            let paced = try await [first, second, third]
            #expect(paced.allSatisfy { $0.0 == .ok }, "\(paced.map { ($0.0, $0.1, $0.2) })")
            // One token at once and one every half second: the third cannot be answered before 1 s.
            #expect(start.duration(to: clock.now) >= .milliseconds(990), "\(paced.map { ($0.0, $0.1, $0.2) })")

            #expect(try await Self.sql(client, tokenB, "SELECT 1 AS one").0 == .ok)
            let refusedAt = clock.now
            let (status, body, headers) = try await Self.sql(client, tokenB, "SELECT 1 AS one")
            #expect(status == .tooManyRequests && body.contains("API request rate is used up"), "\(status) \(body)")
            #expect(refusedAt.duration(to: clock.now) >= .milliseconds(1990), "refused only when the 2 s wait is over")
            // Retry-After counts from the refusal: the token is about 1,000 s away, less the wait.
            #expect(headers[.retryAfter].flatMap(Int.init).map { (900...1000).contains($0) } == true, "\(headers)")
        }
    }

    /// The LRS rate counts the statements of a batch: a batch the tenant's bucket cannot pay for is refused
    /// whole, and nothing of it is stored.
    @Test func aTenantOverItsIngestRateIsRefusedAndNothingOfTheRefusedBatchIsStored() async throws {
        let handle = try TestDatabase.current
        try await LRSFixture.with(prepare: { fixture in
            try await handle.admin.tiers.setOverride(.init(ingest: RatePolicy(perSecond: 0.001, burst: 5)), of: fixture.a.tenant.id,
                                                     logger: TestDatabase.logger)
        }) { client, fixture in
            func post(_ member: LRSFixture.Member, _ ids: [UUID]) async throws -> (HTTPResponse.Status, String, HTTPFields) {
                try await client.execute(uri: "/xAPI/statements", method: .post, headers: member.headers,
                                         body: ByteBuffer(string: XAPIJSON.array(ids.map { XAPIJSON.statement(id: $0) }))) {
                    ($0.status, String(buffer: $0.body), $0.headers)
                }
            }
            // One statement (1 unit), then three (3 units): one unit is left of five.
            let single = [UUID()], triple = [UUID(), UUID(), UUID()], refused = [UUID(), UUID()]
            let first = try await post(fixture.a, single)
            #expect(first.0 == .ok && first.2[Self.rateLimitPolicy] == "\"ingest\";q=5;w=5000" && first.2[Self.rateLimit]?.hasPrefix("\"ingest\";r=4;") == true,
                    "\(first)")
            // The batch's answer shows the bucket after its per-statement charge: 4 - 3 = 1.
            let second = try await post(fixture.a, triple)
            #expect(second.0 == .ok && second.2[Self.rateLimit]?.hasPrefix("\"ingest\";r=1;") == true, "\(second)")
            #expect(second.2[Self.rateLimit].map { $0.split(separator: ",").count } == 1, "one RateLimit field, not two")
            let (status, body, headers) = try await post(fixture.a, refused)
            #expect(status == .tooManyRequests && body.contains("LRS statement rate is used up") && headers[.retryAfter] != nil, "\(body)")
            let ids = try await fixture.rows(fixture.a, "SELECT id::text FROM app.statements")
            #expect(Set(ids) == Set((single + triple).map { $0.uuidString.lowercased() }), "\(ids)")
            // B's keys draw on B's bucket.
            #expect(try await post(fixture.b, refused).0 == .ok)
        }
    }

    /// One slot for A and a short wait: while A's slow query holds A's slot, A's next request is a 429 with
    /// Retry-After and B's is answered. (The slow query sleeps for seconds, so the two requests sent together
    /// overlap whatever the machine's speed; which of A's two gets the slot does not matter.)
    @Test func aTenantOverItsConcurrencyGets429WhileAnotherTenantIsServed() async throws {
        let handle = try TestDatabase.current
        try await withApp(guardMode: .offForTesting, limits: { fixture in
            try await handle.admin.tiers.setOverride(.init(concurrency: 1), of: fixture.a.tenant.id, logger: TestDatabase.logger)
        }) { client, fixture in
            let tokenA = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let tokenB = try await TestTokens.tenant(fixture.b.tenant.id, role: .analyst)
            async let slow = Self.sql(client, tokenA, "SELECT pg_sleep(4) IS NULL AS slept")
            async let second = Self.sql(client, tokenA, "SELECT pg_sleep(4) IS NULL AS slept")
            async let other = Self.sql(client, tokenB, "SELECT course_iri FROM courses")
            let answers = try await [slow, second]
            let (otherStatus, otherBody, _) = try await other
            #expect(answers.filter { $0.0 == .ok }.count == 1 && answers.filter { $0.0 == .tooManyRequests }.count == 1,
                    "\(answers.map { ($0.0, $0.1) })")
            let refused = try #require(answers.first { $0.0 == .tooManyRequests })
            #expect(refused.2[.retryAfter] != nil && refused.1.contains("too many concurrent requests for this tenant;"), "\(refused.1)")
            #expect(otherStatus == .ok && otherBody.contains(fixture.b.canary), "\(otherBody)")
        }
    }

    /// A tier's connection budget is shared by its tenants: with a budget of one, B waits behind A's slow query
    /// although B has slots of its own, and a tenant of another tier is served.
    @Test func aTiersConnectionBudgetIsSharedByItsTenantsAndNoOtherTier() async throws {
        let handle = try TestDatabase.current
        let tier = "budget-" + UUID().uuidString.prefix(8).lowercased()
        try await handle.admin.tiers.set(.init(name: tier, concurrency: 4, connectionBudget: 1), logger: TestDatabase.logger)
        let fixture = try await TwoTenants.make(handle)
        let other = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("tier")), name: "Other tier", logger: TestDatabase.logger)
        for tenant in [fixture.a.tenant, fixture.b.tenant] {
            try await handle.admin.tiers.assign(tenant: tenant.id, tier: tier, logger: TestDatabase.logger)
        }
        try await serve(handle, fixture, guardMode: .offForTesting) { client, fixture in
            let tokenA = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let tokenB = try await TestTokens.tenant(fixture.b.tenant.id, role: .analyst)
            let tokenOther = try await TestTokens.tenant(other.id, role: .analyst)
            async let a = Self.sql(client, tokenA, "SELECT pg_sleep(4) IS NULL AS slept")
            async let b = Self.sql(client, tokenB, "SELECT pg_sleep(4) IS NULL AS slept")
            async let elsewhere = Self.sql(client, tokenOther, "SELECT 1 AS one")
            let answers = try await [a, b]
            #expect(answers.filter { $0.0 == .ok }.count == 1 && answers.filter { $0.0 == .tooManyRequests }.count == 1,
                    "\(answers.map { ($0.0, $0.1) })")
            let refused = try #require(answers.first { $0.0 == .tooManyRequests })
            #expect(refused.1.contains("too many concurrent requests for this tenant's tier"), "\(refused.1)")
            #expect(try await elsewhere.0 == .ok)
        }
    }
}

import Foundation
import Testing
import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The roll-up service starts a pass once the server's ingest has been quiet (architecture decision 81), not only at
/// the end of its interval. A real `tenantscope serve` with an interval of an hour: whatever it derives after its
/// first pass, it derives because ingest woke it.
@Suite(.serialized) struct RollupWakeupTests {
    /// Rows still queued for derivation or the roll-ups, and learners derived, read as the cluster's superuser.
    static func queuedAndLearners(on serve: ServeProcess) async throws -> (queued: Int, learners: Int) {
        try await OneShotConnection.with(try await serve.superuserEndpoint(), logger: TestDatabase.logger) { connection in
            let row = try await connection.query("""
                SELECT (SELECT count(*) FROM app.learning_facts_queue)::int + (SELECT count(*) FROM app.rollup_queue)::int,
                       (SELECT count(*) FROM app.learners)::int
                """, logger: TestDatabase.logger).collect().first!
            return try row.decode((Int, Int).self)
        }
    }

    /// Polls until nothing is queued; bounded at 60 s, a hang detector (an hour's interval would not end it).
    static func waitUntilDerived(on serve: ServeProcess) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let (queued, learners) = try await queuedAndLearners(on: serve)
            if queued == 0 { return learners }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the queued batch was not derived within 60 s")
        return -1
    }

    @Test func aBatchIsDerivedOnceIngestIsQuietNotAtTheEndOfTheInterval() async throws {
        let root = try ServeProcess.makeRoot("rollup-wakeup")
        // The control: with the quiet period off, a batch waits for the interval (an hour).
        let keeping = try await ServeProcess.start(root: root, logName: "interval-only",
                                                   arguments: ["--rollup-interval", "3600", "--rollup-quiet-period", "0"])
        var lrs: FaultToleranceTests.LRSTenant?
        try await FaultToleranceTests.finally(keeping) {
            let tenant = try await FaultToleranceTests.createTenant(on: keeping)
            lrs = tenant
            let client = ServeClient(baseURL: keeping.baseURL, timeout: .seconds(60))
            #expect(await client.postStatements(FaultToleranceTests.batch(), key: tenant.key, secret: tenant.secret).status == 200)
            try await Task.sleep(for: .seconds(2))
            #expect(try await Self.queuedAndLearners(on: keeping).queued > 0, "without the quiet period the batch waits for the interval")
        }
        let tenant = try #require(lrs)

        let waking = try await ServeProcess.start(root: root, logName: "quiet-period", arguments: ["--rollup-interval", "3600"])
        try await FaultToleranceTests.finally(waking) {
            // The first pass, at start, takes the control's batch; after it, only a wake-up derives anything.
            let before = try await Self.waitUntilDerived(on: waking)
            #expect(before > 0)
            let client = ServeClient(baseURL: waking.baseURL, timeout: .seconds(60))
            let learner = "mailto:woken-\(UUID().uuidString.prefix(8))@example.com"
            #expect(await client.postStatements(XAPIJSON.statement(actor: learner), key: tenant.key, secret: tenant.secret).status == 200)
            #expect(try await Self.waitUntilDerived(on: waking) == before + 1, "the new learner is derived without waiting an hour")
        }
    }

    /// A pass that quiet ingest starts catches up two tenants at once by default (`--rollup-quiet-concurrency`,
    /// decision 82): while one tenant's catch-up waits for its derivation lock (held here by hand), the other's is
    /// done. Each tenant is held in turn, so a pass that takes one tenant at a time fails whichever it takes first.
    @Test func aPassThatQuietIngestStartsCatchesUpTwoTenantsAtOnce() async throws {
        // A quiet period of 5 s, so that both tenants' batches (two requests in a row) are in the one pass it starts.
        let serve = try await ServeProcess.start(root: try ServeProcess.makeRoot("rollup-quiet-concurrency"),
                                                 arguments: ["--rollup-interval", "3600", "--rollup-quiet-period", "5",
                                                             // The test holds a tenant's lock by hand for as long as it needs.
                                                             "--rollup-lock-wait", "3600"])
        try await FaultToleranceTests.finally(serve) {
            let tenants = [try await FaultToleranceTests.createTenant(on: serve), try await FaultToleranceTests.createTenant(on: serve)]
            let client = ServeClient(baseURL: serve.baseURL, timeout: .seconds(60))
            try await OneShotConnection.with(try await serve.superuserEndpoint(), logger: TestDatabase.logger) { connection in
                func id(_ tenant: FaultToleranceTests.LRSTenant) async throws -> String {
                    try await connection.query("SELECT id::text FROM app.tenants WHERE slug = \(tenant.slug)", logger: TestDatabase.logger)
                        .collect().first!.decode(String.self)
                }
                func queued(_ tenant: FaultToleranceTests.LRSTenant) async throws -> Int {
                    let tenantID = try await id(tenant)
                    return try await connection.query("""
                        SELECT (SELECT count(*) FROM app.learning_facts_queue WHERE tenant_id = \(tenantID)::uuid)::int
                             + (SELECT count(*) FROM app.rollup_queue WHERE tenant_id = \(tenantID)::uuid)::int
                        """, logger: TestDatabase.logger).collect().first!.decode(Int.self)
                }
                let locks = DerivationLockProbe(connection: connection)
                for (held, other) in [(tenants[0], tenants[1]), (tenants[1], tenants[0])] {
                    let heldID = try #require(TenantID(uuidString: try await id(held)))
                    try await locks.hold(heldID)
                    for tenant in [held, other] {
                        let learner = "mailto:\(UUID().uuidString.prefix(8))@example.com"
                        #expect(await client.postStatements(XAPIJSON.statement(actor: learner), key: tenant.key, secret: tenant.secret).status == 200)
                    }
                    // Bounded at 60 s as a hang detector: the interval is an hour.
                    var otherDerived = false
                    for _ in 0..<600 where !otherDerived {
                        otherDerived = try await queued(other) == 0
                        if !otherDerived { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(otherDerived, "\(other.slug) was not caught up while \(held.slug) waited for its lock")
                    #expect(try await queued(held) > 0, "the held tenant's catch-up waits for its lock")
                    try await locks.release(heldID)
                    for _ in 0..<600 where try await queued(held) > 0 {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(try await queued(held) == 0, "the held tenant is caught up once its lock is free")
                }
            }
        }
    }
}

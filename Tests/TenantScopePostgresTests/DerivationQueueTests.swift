import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The transactional outbox between ingest and derivation (architecture decision 18): a batch queues
/// its actors in its own transaction, and the roll-up service derives what was committed when it looked.
@Suite(.database) struct DerivationQueueTests {
    static let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "queue"])

    func count(_ sql: String, _ tenant: TenantID, _ handle: TestDatabase) async throws -> Int {
        try await handle.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql)).collect().first!.decode(Int.self)
        }
    }

    @Test func aBatchCommittingWhileTheServiceDerivesIsDerivedOnTheNextPass() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("queue")), name: "Queue", logger: TestDatabase.logger)
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let batch = try StatementBatch.parse(Data(XAPIJSON.statement(actor: "mailto:late@example.com").utf8), validator: Self.validator)

        try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            _ = try await StatementStore.insert(batch, queueingDerivation: true, on: connection)
            // The service passes while the batch is still open: it must neither see nor consume its queue row.
            try await rollups.catchUp(tenant.id)
        }
        #expect(try await count("SELECT count(*)::int FROM app.learners", tenant.id, handle) == 0)
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 1,
                "the row committed after the service looked stays queued")

        try await rollups.catchUp(tenant.id)
        #expect(try await count("SELECT count(*)::int FROM app.learners WHERE actor_key = 'mbox:mailto:late@example.com'", tenant.id, handle) == 1)
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 0)
    }

    @Test func aRolledBackBatchLeavesNothingQueued() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("queue")), name: "Queue", logger: TestDatabase.logger)
        let first = UUID()
        let store = handle.database.statements
        _ = try await store.store(
            try StatementBatch.parse(Data(XAPIJSON.statement(id: first).utf8), validator: Self.validator), in: tenant.id.testScope, logger: TestDatabase.logger)
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 1)
        // A batch refused with 409 (its second statement reuses the first id with other content) rolls back whole.
        let conflicting = XAPIJSON.array([
            XAPIJSON.statement(actor: "mailto:other@example.com"),
            XAPIJSON.statement(id: first, object: "https://example.com/activity/changed"),
        ])
        await #expect(throws: TenantScopeError.self) {
            try await store.store(try StatementBatch.parse(Data(conflicting.utf8), validator: Self.validator), in: tenant.id.testScope, logger: TestDatabase.logger)
        }
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 1)
    }

    @Test func manyBatchesOfOneActorAreDerivedOnceAndInChunksAfterABacklog() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("queue")), name: "Queue", logger: TestDatabase.logger)
        for _ in 0..<3 {
            _ = try await handle.database.statements.store(
                try StatementBatch.parse(Data(XAPIJSON.statement().utf8), validator: Self.validator), in: tenant.id.testScope, logger: TestDatabase.logger)
        }
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 3)
        let derived = try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            var actors: [Int] = []
            for _ in 0..<3 {
                actors.append(try await connection.query("SELECT app.derive_queued_learning_facts(2)").collect().first!.decode(Int.self))
            }
            return actors
        }
        #expect(derived == [1, 1, 0], "two rows of one actor derive it once; the third row is the next chunk; then nothing")
    }
}

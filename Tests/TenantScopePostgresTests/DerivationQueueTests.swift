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
    /// A batch queues its actors in one row (migration 36), and a derivation chunk takes rows in queue order until
    /// the actors before a row reach the chunk: so a chunk of two takes a whole batch of three, and stops there.
    @Test func aBatchQueuesOneRowAndAChunkTakesWholeBatches() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("queue")), name: "Queue", logger: TestDatabase.logger)
        for batch in 0..<2 {
            let statements = (0..<3).map { XAPIJSON.statement(actor: "mailto:b\(batch)-\($0)@example.com") }
            _ = try await handle.database.statements.store(
                try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: Self.validator), in: tenant.id.testScope,
                logger: TestDatabase.logger)
        }
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 2)
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue WHERE cardinality(actor_keys) = 3", tenant.id, handle) == 2)
        let derived = try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            var actors: [Int] = []
            for _ in 0..<3 {
                actors.append(try await connection.query("SELECT app.derive_queued_learning_facts(2)").collect().first!.decode(Int.self))
            }
            return actors
        }
        #expect(derived == [3, 3, 0], "each chunk takes one batch's row whole")
        #expect(try await count("SELECT count(*)::int FROM app.learners", tenant.id, handle) == 6)
    }

    /// A learner's erasure takes their key (and where their statements began) out of every batch row queued for
    /// derivation, deletes a row that held only them, and leaves the other actors queued as they were.
    @Test func anErasureTakesTheLearnerOutOfQueuedBatchRows() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("queue")), name: "Queue", logger: TestDatabase.logger)
        for actors in [["mailto:erased@example.com", "mailto:kept@example.com"], ["mailto:erased@example.com"]] {
            _ = try await handle.database.statements.store(
                try StatementBatch.parse(Data(XAPIJSON.array(actors.map { XAPIJSON.statement(actor: $0) }).utf8), validator: Self.validator),
                in: tenant.id.testScope, logger: TestDatabase.logger)
        }
        let queuedKeys = "SELECT count(*)::int FROM app.learning_facts_queue q, unnest(q.actor_keys, q.stored_froms) AS u(k, s)"
        #expect(try await count(queuedKeys + " WHERE u.k = 'mbox:mailto:erased@example.com'", tenant.id, handle) == 2)
        _ = try await LearnerErasure(database: handle.database).erase(actorKey: "mbox:mailto:erased@example.com", in: tenant.id.testScope,
                                                                      logger: TestDatabase.logger)
        #expect(try await count(queuedKeys + " WHERE u.k = 'mbox:mailto:erased@example.com'", tenant.id, handle) == 0)
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 1, "the learner's own batch row is gone")
        #expect(try await count(queuedKeys + " WHERE u.k = 'mbox:mailto:kept@example.com' AND u.s IS NOT NULL", tenant.id, handle) == 1)
        try await RollupService(database: handle.database, logger: TestDatabase.logger).catchUp(tenant.id)
        #expect(try await count("SELECT count(*)::int FROM app.learners WHERE actor_key = 'mbox:mailto:kept@example.com'", tenant.id, handle) == 1)
        #expect(try await count("SELECT count(*)::int FROM app.learners WHERE actor_key = 'mbox:mailto:erased@example.com'", tenant.id, handle) == 0)
    }

    /// A course's title is its earliest counted statement's, kept with the statement it came from (migration 38): an
    /// earlier statement's title replaces a later one's, and voiding or erasing the statement a title came from brings
    /// back the earliest one left.
    @Test func aCourseTitleFollowsItsEarliestCountedStatementThroughVoidingAndErasure() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("title")), name: "Titles", logger: TestDatabase.logger)
        let service = RollupService(database: handle.database, logger: TestDatabase.logger)
        func send(_ id: UUID, _ actor: String, _ title: String, _ day: String) async throws {
            let statement = #"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"\#(actor)"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://titles.example/course","definition":{"type":"http://adlnet.gov/expapi/activities/course","name":{"en-US":"\#(title)"}}},"timestamp":"\#(day)T00:00:00Z"}"#
            _ = try await handle.database.statements.store(try StatementBatch.parse(Data(XAPIJSON.array([statement]).utf8), validator: Self.validator),
                                                           in: tenant.id.testScope, logger: TestDatabase.logger)
            try await service.catchUp(tenant.id)
        }
        func title() async throws -> String? {
            try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
                try await connection.query("SELECT title FROM app.courses WHERE course_iri = 'https://titles.example/course'")
                    .collect().first?.decode(String?.self) ?? nil
            }
        }
        try await send(UUID(), "mailto:kept@example.com", "Second", "2026-01-02")
        #expect(try await title() == "Second")
        try await send(UUID(), "mailto:erased@example.com", "First", "2026-01-01")
        #expect(try await title() == "First", "an earlier statement's title replaces a later one's")
        try await send(UUID(), "mailto:kept@example.com", "Third", "2026-01-03")
        #expect(try await title() == "First", "a later statement's title does not")
        let earliest = UUID()
        try await send(earliest, "mailto:kept@example.com", "Zeroth", "2025-12-31")
        #expect(try await title() == "Zeroth")
        _ = try await handle.database.statements.store(
            try StatementBatch.parse(Data(XAPIJSON.array([XAPIJSON.voiding(earliest)]).utf8), validator: Self.validator),
            in: tenant.id.testScope, logger: TestDatabase.logger)
        try await service.catchUp(tenant.id)
        #expect(try await title() == "First", "voiding the statement a title came from brings back the earliest one left")
        _ = try await LearnerErasure(database: handle.database).erase(actorKey: "mbox:mailto:erased@example.com", in: tenant.id.testScope,
                                                                      logger: TestDatabase.logger)
        #expect(try await title() == "Second", "so does erasing its learner")
    }
}

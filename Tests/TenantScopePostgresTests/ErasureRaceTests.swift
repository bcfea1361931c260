import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// A batch of a learner's that commits while the learner's erasure runs: it arrived after the request, so it is
/// kept, and it must be derived like any other batch. The erasure used to delete the learner's queued derivations
/// after their statements, so a batch committed in between kept its statements and lost its queue row: the learner
/// stayed missing from every derived table until a full rebuild.
@Suite(.freshDatabase) struct ErasureRaceTests {
    static let host = "erasure-race.example"
    static let actor = "mbox:mailto:learner@\(host)"

    static func experienced(_ id: UUID, lesson: Int) -> String {
        #"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"mailto:learner@\#(host)"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://\#(host)/lesson/\#(lesson)"},"timestamp":"\#(ISO8601Timestamp.format(Date()))"}"#
    }

    static func store(_ statements: [String], in tenant: Tenant, _ database: Database) async throws {
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "erasure-race"])
        let batch = try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: validator)
        _ = try await database.statements.store(batch, in: tenant.id.testScope, logger: TestDatabase.logger)
    }

    static func learnerRows(_ database: Database, _ tenant: Tenant) async throws -> Int {
        try await database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT count(*)::int FROM app.learners WHERE actor_key = \(actor)").collect().first?.decode(Int.self) ?? -1
        }
    }

    /// Waits until a connection to this test's database waits for a lock (the erasure, on the held statement row).
    static func waitForALockWait(_ handle: TestDatabase) async throws {
        for _ in 0..<600 {
            let waiting = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
                try await connection.query("""
                    SELECT count(*)::int FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE NOT l.granted AND a.datname = current_database()
                    """, logger: TestDatabase.logger).collect().first?.decode(Int.self) ?? 0
            }
            if waiting > 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the erasure never waited for the held row")
    }

    @Test func aBatchCommittedDuringTheErasureIsKeptAndDerived() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("erasure-race")), name: "Erasure race",
                                                           logger: TestDatabase.logger)
        try await Self.store([Self.experienced(UUID(), lesson: 1), Self.experienced(UUID(), lesson: 2)], in: tenant, db)
        try await RollupService(database: db, logger: TestDatabase.logger).catchUpAll(tenants: [tenant])
        #expect(try await Self.learnerRows(db, tenant) == 1)

        // A transaction holds one of the learner's statements, so the erasure's DELETE of them waits for it; a new
        // batch of the learner's commits while it waits.
        let (locked, lockedDone) = AsyncStream.makeStream(of: Void.self)
        let (released, releasedDone) = AsyncStream.makeStream(of: Void.self)
        async let holder: Void = db.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            _ = try await connection.query("SELECT 1 FROM app.statements WHERE actor_key = \(Self.actor) LIMIT 1 FOR UPDATE").collect()
            lockedDone.yield()
            for await _ in released { break }
        }
        for await _ in locked { break }
        async let erased = LearnerErasure(database: db).erase(actorKey: Self.actor, in: tenant.id.testScope, logger: TestDatabase.logger)
        try await Self.waitForALockWait(handle)
        let laterID = UUID()
        try await Self.store([Self.experienced(laterID, lesson: 3)], in: tenant, db)
        releasedDone.yield()
        try await holder
        let outcome = try await erased

        // The erasure removed what it saw; the later batch is the learner's new record.
        #expect(outcome.statements == 2 && outcome.learnerRows == 1)
        #expect(try await db.statements.statement(id: laterID, voided: false, in: tenant.id.testScope, logger: TestDatabase.logger) != nil)
        #expect(try await Self.learnerRows(db, tenant) == 0)
        // The next pass derives it: its queue row survived the erasure.
        try await RollupService(database: db, logger: TestDatabase.logger).catchUpAll(tenants: [tenant])
        #expect(try await Self.learnerRows(db, tenant) == 1, "the later batch was never derived")
    }

    /// A batch that commits after the erasure deleted the queue and before it deleted the statements loses its
    /// statements and leaves its queue row: deriving an actor with no statements left derives no learner.
    @Test func aQueuedDerivationWhoseStatementsWereErasedDerivesNothing() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("erasure-left")), name: "Erasure left",
                                                           logger: TestDatabase.logger)
        try await Self.store([Self.experienced(UUID(), lesson: 1)], in: tenant, db)
        try await RollupService(database: db, logger: TestDatabase.logger).catchUpAll(tenants: [tenant])
        _ = try await LearnerErasure(database: db).erase(actorKey: Self.actor, in: tenant.id.testScope, logger: TestDatabase.logger)
        try await db.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            _ = try await connection.query("""
                INSERT INTO app.learning_facts_queue (actor_key, stored_from) VALUES (\(Self.actor), now() - interval '1 minute')
                """).collect()
        }
        try await RollupService(database: db, logger: TestDatabase.logger).catchUpAll(tenants: [tenant])
        #expect(try await Self.learnerRows(db, tenant) == 0)
        let queued = try await db.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT count(*)::int FROM app.learning_facts_queue").collect().first?.decode(Int.self)
        }
        #expect(queued == 0, "the pass took the row")
    }
}

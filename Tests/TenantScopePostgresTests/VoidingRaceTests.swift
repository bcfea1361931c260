import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// A statement and the statement that voids it, stored by two transactions at the same time: each looks only at
/// committed rows, so neither voids the target. The next roll-up pass must (migration 33).
@Suite(.freshDatabase) struct VoidingRaceTests {
    static let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "race-test"])

    static func batch(_ statements: [String]) throws -> [PreparedStatement] {
        try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: validator)
    }

    static func experienced(_ who: String, id: UUID = UUID()) -> String {
        #"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"mailto:\#(who)@race.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://race.example/lesson/1"},"timestamp":"\#(ISO8601Timestamp.format(Date()))"}"#
    }

    @Test func aTargetStoredWhileItsVoidingWasStoredIsVoidedByTheNextPass() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("race")), name: "Race",
                                                           logger: TestDatabase.logger)
        let targetID = UUID()
        let targets = try Self.batch([Self.experienced("racer", id: targetID), Self.experienced("steady")])
        let voiding = try Self.batch([RandomStatements.voiding(targetID.uuidString.lowercased())])

        // The target's transaction inserts it and waits, uncommitted, while the voiding statement is stored.
        let (inserted, insertedDone) = AsyncStream.makeStream(of: Void.self)
        let (voided, voidedDone) = AsyncStream.makeStream(of: Void.self)
        async let targetCommitted: Void = db.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            _ = try await StatementStore.insert(targets, queueingDerivation: true, storedInTransaction: true, on: connection)
            insertedDone.yield()
            for await _ in voided { break }
        }
        for await _ in inserted { break }
        _ = try await db.statements.store(voiding, in: tenant.id.testScope, logger: TestDatabase.logger)
        voidedDone.yield()
        try await targetCommitted

        let store = db.statements
        #expect(try await store.statement(id: targetID, voided: false, in: tenant.id.testScope, logger: TestDatabase.logger) != nil,
                "the race: both committed and the target is not voided")
        try await RollupService(database: db, logger: TestDatabase.logger).catchUpAll(tenants: [tenant])
        #expect(try await store.statement(id: targetID, voided: true, in: tenant.id.testScope, logger: TestDatabase.logger) != nil)
        #expect(try await store.statement(id: targetID, voided: false, in: tenant.id.testScope, logger: TestDatabase.logger) == nil)

        // Its learner is gone from today's figures, served and cold alike; the other learner stays.
        let runner = ReportRunner(catalog: try StandardReports.catalog(), database: db)
        let scope = TenantScope(tenant: tenant.id, actor: "race-test", role: .admin, attributes: [:])
        for path in [ReportRunner.Path.served, .cold] {
            let rows = try await runner.run("active_learners", in: .tenant(scope), parameters: [("days", "1")], path: path,
                                            logger: TestDatabase.logger).rows
            #expect(rows.last?[1] == .integer(1) && rows.last?[2] == .integer(1), "\(path)")
        }
        // The pass looked again only because the voiding statement is recent: a second pass voids nothing more.
        #expect(try await db.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT app.void_missed_targets(interval '10 minutes')").collect().first?.decode(Int.self)
        } == 0)
    }

    /// Two voiding statements naming each other, stored by two transactions at once: each used to find the other's row
    /// uncommitted, not a voiding statement, and both were stored. The second now waits for the first and is refused.
    @Test func twoVoidingStatementsNamingEachOtherAreNotBothStored() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("mutual")), name: "Mutual",
                                                           logger: TestDatabase.logger)
        let (a, b) = (UUID(), UUID())
        func voiding(_ id: UUID, of target: UUID) throws -> [PreparedStatement] {
            try Self.batch([#"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"mailto:admin@race.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"\#(target.uuidString.lowercased())"}}"#])
        }
        let (first, second) = (try voiding(a, of: b), try voiding(b, of: a))

        // The first is stored in a transaction (the scoped path) that waits, uncommitted, after its voiding step.
        let (stored, storedDone) = AsyncStream.makeStream(of: Void.self)
        let (release, released) = AsyncStream.makeStream(of: Void.self)
        async let firstCommitted: StatementStore.StoreOutcome = db.sessions.run(tenant.id.testScope, access: .readWrite,
                                                                                 logger: TestDatabase.logger) { connection in
            defer { storedDone.finish() }  // a failure ends the wait below, and the await of this task then throws it
            let outcome = try await StatementStore.inTransaction(first)(connection)
            storedDone.yield()
            for await _ in release { break }
            return outcome
        }
        for await _ in stored { break }
        // The second, one call of the session function, waits for the first's lock...
        let secondStored = Task { try await db.statements.store(second, in: tenant.id.testScope, logger: TestDatabase.logger) }
        let waited = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { try await LockWaiters.await(1, on: $0) }
        #expect(waited, "the second voiding statement did not wait for the first")
        released.yield()
        #expect(try await firstCommitted.stored == 1)
        // ...and, once it committed, finds a voiding statement to void and is refused.
        let refusal = await #expect(throws: TenantScopeError.self) { try await secondStored.value }
        #expect(refusal?.message.contains("is itself a voiding statement") == true, "\(String(describing: refusal))")
        let store = db.statements
        #expect(try await store.statement(id: b, voided: false, in: tenant.id.testScope, logger: TestDatabase.logger) == nil)
    }

    /// The pass looks at one tenant's voiding statements and voids only that tenant's statements: a voiding statement
    /// that names another tenant's statement id changes nothing there, at ingest or in the pass.
    @Test func aVoidingStatementNamingAnotherTenantsStatementVoidsNothingThere() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let owner = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("race-a")), name: "Race A",
                                                          logger: TestDatabase.logger)
        let other = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("race-b")), name: "Race B",
                                                          logger: TestDatabase.logger)
        let targetID = UUID()
        _ = try await db.statements.store(try Self.batch([Self.experienced("kept", id: targetID)]), in: owner.id.testScope,
                                          logger: TestDatabase.logger)
        _ = try await db.statements.store(try Self.batch([RandomStatements.voiding(targetID.uuidString.lowercased())]),
                                          in: other.id.testScope, logger: TestDatabase.logger)
        try await RollupService(database: db, logger: TestDatabase.logger).catchUpAll(tenants: [other, owner])
        #expect(try await db.statements.statement(id: targetID, voided: false, in: owner.id.testScope, logger: TestDatabase.logger) != nil)
    }
}

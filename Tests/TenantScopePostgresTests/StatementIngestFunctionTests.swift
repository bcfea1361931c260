import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// A statement batch in one round trip through the session function ``StatementIngest/function`` (architecture decision
/// 62): one exchange instead of four, each tenant's statements stored as its own on a shared connection, and a batch the
/// transaction would refuse refused whole by the call too.
@Suite(.serialized, .freshDatabase) struct StatementIngestFunctionTests {
    static func batch(_ statements: [String]) throws -> [PreparedStatement] {
        try VoidingRaceTests.batch(statements)
    }

    static func experienced(_ who: String, id: UUID = UUID()) -> String {
        VoidingRaceTests.experienced(who, id: id)
    }

    /// How many statements each tenant reads in its own scope, and how many of them are voided.
    static func stored(_ handle: TestDatabase, _ tenants: [Tenant]) async throws -> [TenantID: (all: Int, voided: Int)] {
        var counts: [TenantID: (all: Int, voided: Int)] = [:]
        for tenant in tenants {
            counts[tenant.id] = try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
                try await connection.query("SELECT count(*)::int, count(*) FILTER (WHERE voided)::int FROM app.statements")
                    .collect().first!.decode((Int, Int).self)
            }
        }
        return counts
    }

    /// Stores `batch` on `connection` as one call or, without `functions`, as a scoped transaction.
    static func store(_ handle: TestDatabase, _ batch: [PreparedStatement], _ tenant: Tenant, on connection: PostgresConnection,
                      functions: Bool = true) async throws -> StatementStore.StoreOutcome {
        try await statements(handle, functions: functions).storeByCall(batch, in: tenant.id.testScope, on: connection, logger: TestDatabase.logger)
    }

    /// The statement store, its helper calling session functions or not.
    static func statements(_ handle: TestDatabase, functions: Bool) -> StatementStore {
        let database = handle.database
        guard !functions else { return database.statements }
        let sessions = ScopedDatabase(tenantPool: database.tenantPool, platformPool: database.pool, signer: database.sessions.signer,
                                      statementTimeout: .seconds(30), replicas: nil, router: nil, sessionFunctions: false)
        return StatementStore(sessions: sessions, cursors: database.statements.cursors, wakeup: RollupWakeup())
    }

    @Test func aBatchTakesOneExchangeOnceItsFunctionExistsAndATransactionTakesFour() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tenant = fixture.a.tenant
        let recorder = LogRecorder()
        try await ScopedReadFunctionTests.withRecordedConnection(handle, recorder) { connection in
            var outcome: StatementStore.StoreOutcome?
            let first = try await ScopedReadFunctionTests.exchanges(recorder) {
                outcome = try await Self.store(handle, try Self.batch([Self.experienced("one"), Self.experienced("two")]), tenant, on: connection)
            }
            #expect(outcome?.stored == 2)
            // The first call on the connection also sets the session's timeout and creates the function. (PostgresNIO
            // prepares the call in an exchange of its own, which completes no command and is not counted here.)
            #expect(first == 3)
            #expect(SessionFunctions.shared.isCreated(StatementIngest.function, on: connection))
            for round in 0..<3 {
                let later = try await ScopedReadFunctionTests.exchanges(recorder) {
                    outcome = try await Self.store(handle, try Self.batch([Self.experienced("r\(round)")]), tenant, on: connection)
                }
                #expect(later == 1)
                #expect(outcome?.stored == 1)
            }
            // The same kind of batch in a scoped transaction: BEGIN, the scope statement, the insert, COMMIT.
            let inTransaction = try await ScopedReadFunctionTests.exchanges(recorder) {
                outcome = try await handle.database.sessions.run(.tenant(tenant.id.testScope), on: connection, access: .readWrite,
                                                                 statementTimeout: nil, logger: TestDatabase.logger,
                                                                 StatementStore.inTransaction(try Self.batch([Self.experienced("tx")])))
            }
            #expect(inTransaction == 4)
            #expect(outcome?.stored == 1)
        }
        // Six new statements besides the fixture's canary, and their learners queued for derivation as a transaction queues them.
        #expect(try await Self.stored(handle, [tenant])[tenant.id]?.all == 7)
        let queued = try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                SELECT count(DISTINCT k)::int FROM app.learning_facts_queue q, unnest(coalesce(q.actor_keys, ARRAY[q.actor_key])) AS k
                WHERE k LIKE '%@race.example'
                """).collect().first!.decode(Int.self)
        }
        #expect(queued == 6)
    }

    @Test func tenantsTakingTurnsOnOneConnectionEachStoreOnlyAsThemselves() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        var ids: [TenantID: [UUID]] = [:]
        try await handle.database.tenantPool.client.withConnection { connection in
            for round in 0..<3 {
                for member in [fixture.a, fixture.b] {
                    let id = UUID()
                    let outcome = try await Self.store(handle, try Self.batch([Self.experienced("turn\(round)", id: id)]), member.tenant,
                                                       on: connection)
                    #expect(outcome.stored == 1)
                    ids[member.tenant.id, default: []].append(id)
                }
            }
            // After a call the session is the login again, with no tenant: it may not touch the table.
            let error = await #expect(throws: PSQLError.self) {
                try await connection.query("SELECT count(*)::int FROM app.statements", logger: TestDatabase.logger).collect()
            }
            #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == "42501")
        }
        // Each statement carries the tenant whose context made the call: its own scope reads it, the other's does not.
        for member in [fixture.a, fixture.b] {
            let other = member.tenant.id == fixture.a.tenant.id ? fixture.b : fixture.a
            for id in ids[member.tenant.id] ?? [] {
                #expect(try await handle.database.statements.statement(id: id, voided: false, in: member.tenant.id.testScope,
                                                                       logger: TestDatabase.logger) != nil)
                #expect(try await handle.database.statements.statement(id: id, voided: false, in: other.tenant.id.testScope,
                                                                       logger: TestDatabase.logger) == nil)
            }
        }
    }

    @Test func aForgedOrMissingContextStoresNothing() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let signer = handle.database.sessions.signer
        let signed = signer.context(for: fixture.a.tenant.id, expiresAt: Date().addingTimeInterval(60))
        let ofB = signer.context(for: fixture.b.tenant.id, expiresAt: Date().addingTimeInterval(60))
        let forged = String(ofB.prefix { $0 != "." }) + signed.drop { $0 != "." }
        let batch = try Self.batch([Self.experienced("forger")])
        let before = try await Self.stored(handle, [fixture.a.tenant, fixture.b.tenant])
        try await handle.database.tenantPool.client.withConnection { connection in
            // A context whose signature does not match is refused when it is read (P0001); none at all is no tenant:
            // the gate lets that through, and the policy's WITH CHECK refuses the row (42501).
            for (context, expected) in [(forged, "P0001"), ("not-a-context", "P0001"), ("", "42501")] {
                let call = BoundStatement(sql: StatementIngest.function.call,
                                          values: StatementIngest.values(batch, queueingDerivation: true, storedInTransaction: true)
                                                  + StatementIngest.attachmentValues([]) + [.text(context)])
                let error = await #expect(throws: PSQLError.self, "context \(context.prefix(12))…") {
                    _ = try await SessionFunctions.shared.rows(of: call, StatementIngest.function, timeoutMilliseconds: "10000",
                                                               on: connection, logger: TestDatabase.logger)
                }
                #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == expected, "context \(context.prefix(12))…")
            }
        }
        let after = try await Self.stored(handle, [fixture.a.tenant, fixture.b.tenant])
        #expect(after[fixture.a.tenant.id]?.all == before[fixture.a.tenant.id]?.all)
        #expect(after[fixture.b.tenant.id]?.all == before[fixture.b.tenant.id]?.all)
    }

    /// The call and the transaction refuse the same batches the same way.
    @Test(arguments: [true, false]) func aConflictingBatchIsRefusedWholeAndAnIdenticalResendIsAccepted(functions: Bool) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tenant = fixture.a.tenant
        let id = UUID()
        let original = Self.experienced("original", id: id)
        try await handle.database.tenantPool.client.withConnection { connection in
            #expect(try await Self.store(handle, try Self.batch([original]), tenant, on: connection, functions: functions).stored == 1)
            // The same statement again, with a new one: accepted, only the new one stored.
            let resent = try await Self.store(handle, try Self.batch([Self.experienced("fresh"), original]), tenant, on: connection, functions: functions)
            #expect(resent.stored == 1)
            // A different statement under the stored id, after a new one: the whole batch is a 409 naming its position.
            let changed = original.replacingOccurrences(of: "lesson/1", with: "lesson/2")
            #expect(changed != original)
            let error = await #expect(throws: TenantScopeError.self) {
                _ = try await Self.store(handle, try Self.batch([Self.experienced("never"), changed]), tenant, on: connection, functions: functions)
            }
            #expect(error?.kind == .conflict)
            #expect(error?.message.hasPrefix("statements[1]:") == true && error?.message.contains(id.uuidString.lowercased()) == true)
            // The connection is usable at once, still calling the function when it did.
            #expect(try await Self.store(handle, try Self.batch([Self.experienced("after")]), tenant, on: connection, functions: functions).stored == 1)
            // (A pooled connection may have the function from another test even when this one ran transactions.)
            if functions { #expect(SessionFunctions.shared.isCreated(StatementIngest.function, on: connection)) }
            #expect(!SessionFunctions.shared.runsTransactions(on: connection))
        }
        // The canary, the original, "fresh" and "after": nothing of the refused batch.
        #expect(try await Self.stored(handle, [tenant])[tenant.id]?.all == 4)
    }

    @Test(arguments: [true, false]) func voidingAVoidingStatementIsRefusedWholeAndVoidingWorks(functions: Bool) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tenant = fixture.a.tenant
        let targetID = UUID()
        let voiding = try Self.batch([RandomStatements.voiding(targetID.uuidString.lowercased())])
        let voidingID = try #require(voiding.first?.id)
        try await handle.database.tenantPool.client.withConnection { connection in
            _ = try await Self.store(handle, try Self.batch([Self.experienced("target", id: targetID)]), tenant, on: connection, functions: functions)
            #expect(try await Self.store(handle, voiding, tenant, on: connection, functions: functions).stored == 1)
            let error = await #expect(throws: TenantScopeError.self) {
                _ = try await Self.store(handle, try Self.batch([Self.experienced("never"), RandomStatements.voiding(voidingID.uuidString.lowercased())]),
                                         tenant, on: connection, functions: functions)
            }
            #expect(error?.kind == .invalidInput)
            #expect(error?.message.contains(voidingID.uuidString.lowercased()) == true)
            if functions { #expect(SessionFunctions.shared.isCreated(StatementIngest.function, on: connection)) }
        }
        #expect(try await handle.database.statements.statement(id: targetID, voided: true, in: tenant.id.testScope, logger: TestDatabase.logger) != nil)
        #expect(try await handle.database.statements.statement(id: targetID, voided: false, in: tenant.id.testScope, logger: TestDatabase.logger) == nil)
        // The canary, the target and the voiding statement: nothing of the refused batch; one voided.
        let counts = try await Self.stored(handle, [tenant])[tenant.id]
        #expect(counts?.all == 3 && counts?.voided == 1)
    }

    @Test func aSessionThatLostItsFunctionStoresAllTheSame() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tenant = fixture.a.tenant
        try await handle.database.tenantPool.client.withConnection { connection in
            _ = try await Self.store(handle, try Self.batch([Self.experienced("before")]), tenant, on: connection)
            for discard in ["DISCARD TEMP", "DISCARD ALL"] {
                try await connection.query(PostgresQuery(unsafeSQL: discard), logger: TestDatabase.logger)
                #expect(try await Self.store(handle, try Self.batch([Self.experienced(discard)]), tenant, on: connection).stored == 1, "after \(discard)")
            }
            #expect(!SessionFunctions.shared.runsTransactions(on: connection))
        }
        #expect(try await Self.stored(handle, [tenant])[tenant.id]?.all == 4)
    }

    @Test func aSessionThatMayNotCreateFunctionsStoresInTransactions() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tenant = fixture.a.tenant
        let database = handle.database.tenantEndpoint.database
        try await PreparedStatementTests.owner(handle, PostgresQuery(unsafeSQL: "REVOKE TEMP ON DATABASE \"\(database)\" FROM PUBLIC"))
        do {
            let recorder = LogRecorder()
            try await ScopedReadFunctionTests.withRecordedConnection(handle, recorder) { connection in
                #expect(try await Self.store(handle, try Self.batch([Self.experienced("first")]), tenant, on: connection).stored == 1)
                #expect(SessionFunctions.shared.runsTransactions(on: connection))
                var outcome: StatementStore.StoreOutcome?
                let exchanges = try await ScopedReadFunctionTests.exchanges(recorder) {
                    outcome = try await Self.store(handle, try Self.batch([Self.experienced("second")]), tenant, on: connection)
                }
                #expect(outcome?.stored == 1)
                #expect(exchanges == 4)
            }
        } catch {
            try await PreparedStatementTests.owner(handle, PostgresQuery(unsafeSQL: "GRANT TEMP ON DATABASE \"\(database)\" TO PUBLIC"))
            throw error
        }
        try await PreparedStatementTests.owner(handle, PostgresQuery(unsafeSQL: "GRANT TEMP ON DATABASE \"\(database)\" TO PUBLIC"))
        #expect(try await Self.stored(handle, [tenant])[tenant.id]?.all == 3)
    }

    @Test func withSessionFunctionsOffABatchIsATransaction() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let store = Self.statements(handle, functions: false)
        let recorder = LogRecorder()
        try await ScopedReadFunctionTests.withRecordedConnection(handle, recorder) { connection in
            var outcome: StatementStore.StoreOutcome?
            let exchanges = try await ScopedReadFunctionTests.exchanges(recorder) {
                outcome = try await store.storeByCall(try Self.batch([Self.experienced("off")]), in: fixture.a.tenant.id.testScope,
                                                      on: connection, logger: TestDatabase.logger)
            }
            #expect(outcome?.stored == 1)
            #expect(exchanges == 4)
            let functions = try await connection.query("""
                SELECT count(*)::int FROM pg_proc WHERE pronamespace = pg_my_temp_schema() AND proname LIKE 'tenantscope\\_ingest\\_%'
                """, logger: TestDatabase.logger).collect().first!.decode(Int.self)
            #expect(functions == 0)
        }
    }

    /// A batch refused on a connection's first call (a client's 409) leaves the call prepared there: the next batch is one
    /// exchange, not a question to the server first (``PreparedStatements/raisedByTheRun(_:)``).
    @Test func aBatchRefusedOnTheFirstCallLeavesTheCallPrepared() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tenant = fixture.a.tenant
        let id = UUID()
        _ = try await handle.database.statements.store(try Self.batch([Self.experienced("stored", id: id)]), in: tenant.id.testScope,
                                                       logger: TestDatabase.logger)
        let recorder = LogRecorder()
        try await ScopedReadFunctionTests.withRecordedConnection(handle, recorder) { connection in
            let changed = Self.experienced("changed", id: id).replacingOccurrences(of: "lesson/1", with: "lesson/9")
            let error = await #expect(throws: TenantScopeError.self) {
                _ = try await Self.store(handle, try Self.batch([changed]), tenant, on: connection)
            }
            #expect(error?.kind == .conflict)
            var outcome: StatementStore.StoreOutcome?
            let exchanges = try await ScopedReadFunctionTests.exchanges(recorder) {
                outcome = try await Self.store(handle, try Self.batch([Self.experienced("next")]), tenant, on: connection)
            }
            #expect(outcome?.stored == 1)
            #expect(exchanges == 1)
        }
    }

    /// The function keeps the session's `plan_cache_mode`, so PL/pgSQL may cache generic plans of its statements. A plan
    /// holds no tenant: with generic plans forced, two tenants taking turns each store as themselves and each one's
    /// re-sent statements are checked against its own.
    @Test func withGenericPlansForcedTenantsTakingTurnsStoreOnlyAsThemselves() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        // A connection of its own, so that the session setting goes with it whatever happens.
        try await OneShotConnection.with(handle.database.tenantEndpoint, logger: TestDatabase.logger) { (connection: PostgresConnection) async throws -> Void in
            try await connection.query("SET plan_cache_mode = force_generic_plan", logger: TestDatabase.logger)
            var sent: [TenantID: [String]] = [:]
            for round in 0..<4 {
                for member in [fixture.a, fixture.b] {
                    let statement = Self.experienced("generic\(round)")
                    sent[member.tenant.id, default: []].append(statement)
                    // Each batch re-sends the tenant's previous statements: the same content, accepted, not stored again.
                    let outcome = try await Self.store(handle, try Self.batch(sent[member.tenant.id]!), member.tenant, on: connection)
                    #expect(outcome.stored == 1, "round \(round)")
                }
            }
            // A's first statement changed and sent as B's: B has no such id, so it is new there, and A's is untouched.
            let first = try Self.batch([sent[fixture.a.tenant.id]![0]])[0]
            let changed = sent[fixture.a.tenant.id]![0].replacingOccurrences(of: "lesson/1", with: "lesson/5")
            let outcome = try await Self.store(handle, try Self.batch([changed]), fixture.b.tenant, on: connection)
            #expect(outcome.stored == 1)
            // And sent as A's, it is A's conflict.
            let error = await #expect(throws: TenantScopeError.self) {
                _ = try await Self.store(handle, try Self.batch([changed]), fixture.a.tenant, on: connection)
            }
            #expect(error?.kind == .conflict)
            #expect(SessionFunctions.shared.isCreated(StatementIngest.function, on: connection))
            let a = try await handle.database.statements.statement(id: first.id, voided: false, in: fixture.a.tenant.id.testScope,
                                                                   logger: TestDatabase.logger)
            #expect(a?.json.contains("lesson/1") == true)
        }
        let counts = try await Self.stored(handle, [fixture.a.tenant, fixture.b.tenant])
        #expect(counts[fixture.a.tenant.id]?.all == 5 && counts[fixture.b.tenant.id]?.all == 6)
    }
}

import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// A tenant's read in one round trip through its read function (``ScopedReadFunctions``, architecture decision 61):
/// one exchange instead of four, each tenant answered only its own rows on a shared connection, nothing of the scope
/// left on the connection after the call, and a session that lost the function served all the same.
@Suite(.serialized, .freshDatabase) struct ScopedReadFunctionTests {
    static let learners = PreparedStatementTests.learners
    static func statement(_ sql: String = learners) -> BoundStatement {
        ReportRunner.statement(sql, values: ["pattern": .text("%canary-%")])
    }

    /// Runs `body` on a connection of the tenant login of its own, whose PostgresNIO logs go to `recorder`.
    static func withRecordedConnection(_ handle: TestDatabase, _ recorder: LogRecorder,
                                       _ body: (PostgresConnection) async throws -> Void) async throws {
        try await OneShotConnection.with(handle.database.tenantEndpoint, logger: recorder.logger, body)
    }

    /// How many statements `work` ran on a connection logging to `recorder`, each in an exchange of its own (PostgresNIO
    /// syncs after every statement): the server answers each with CommandComplete, which PostgresNIO logs before the
    /// statement's rows end. (ReadyForQuery, which closes the exchange, may be logged after `work` returned.)
    static func exchanges(_ recorder: LogRecorder, _ work: () async throws -> Void) async throws -> Int {
        func count() -> Int { recorder.lines.filter { $0.metadata["psql_message"]?.hasPrefix(".commandComplete") == true }.count }
        let before = count()
        try await work()
        return count() - before
    }

    static func canaries(_ rows: [PostgresRow]) throws -> [String] {
        try rows.map { try $0.decode(String.self) }
    }

    @Test func aReadTakesOneExchangeOnceItsFunctionExistsAndATransactionTakesFour() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let sessions = handle.database.sessions
        let scope = fixture.a.tenant.id.testScope
        let recorder = LogRecorder()
        try await Self.withRecordedConnection(handle, recorder) { connection in
            var seen: [String] = []
            let first = try await Self.exchanges(recorder) {
                seen = try Self.canaries(try await sessions.readRows(scope, Self.statement(), columns: [.text], on: connection,
                                                                      logger: TestDatabase.logger))
            }
            #expect(seen.count == 1 && seen.allSatisfy { $0.contains(fixture.a.canary) })
            // The first read on the connection also sets the session's timeout and creates the function.
            #expect(first == 3)
            for _ in 0..<3 {
                let later = try await Self.exchanges(recorder) {
                    seen = try Self.canaries(try await sessions.readRows(scope, Self.statement(), columns: [.text], on: connection,
                                                                          logger: TestDatabase.logger))
                }
                #expect(later == 1)
                #expect(seen.count == 1 && seen.allSatisfy { $0.contains(fixture.a.canary) })
            }
            // The same read in a scoped transaction, also prepared by now: BEGIN, the scope statement, the read, COMMIT.
            _ = try await sessions.run(.tenant(scope), on: connection, access: .readOnly, statementTimeout: nil, logger: TestDatabase.logger) {
                try await $0.rows(Self.statement())
            }
            let inTransaction = try await Self.exchanges(recorder) {
                _ = try await sessions.run(.tenant(scope), on: connection, access: .readOnly, statementTimeout: nil, logger: TestDatabase.logger) {
                    try await $0.rows(Self.statement())
                }
            }
            #expect(inTransaction == 4)
        }
    }

    /// Also with the statement's plan kept for the session (decision 75): the plan the first tenant's call made serves the
    /// second's, and holds no tenant either.
    @Test(arguments: [QueryPlanning.forEachRun, .oncePerConnection])
    func tenantsTakingTurnsOnOneConnectionEachSeeOnlyTheirOwnRows(planning: QueryPlanning) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        var statement = Self.statement()
        statement.planning = planning
        try await handle.database.tenantPool.client.withConnection { connection in
            for round in 0..<3 {
                for member in [fixture.a, fixture.b] {
                    let seen = try Self.canaries(try await handle.database.sessions.readRows(
                        member.tenant.id.testScope, statement, columns: [.text], on: connection, logger: TestDatabase.logger))
                    #expect(seen.count == 1, "round \(round): \(seen.count) canary learners")
                    #expect(seen.allSatisfy { $0.contains(member.canary) }, "round \(round): another tenant's learner is visible")
                }
            }
            // One function served both tenants: it holds no tenant. It plans the statement as the statement asks (the
            // connection, shared by the suite, may also hold the function that plans it the other way, and others' functions).
            let functions = try await connection.query("""
                SELECT count(*)::int FROM pg_proc
                WHERE pronamespace = pg_my_temp_schema() AND proname LIKE 'tenantscope\\_read\\_%'
                  AND prosrc LIKE '%FROM app.learners WHERE actor_key LIKE%'
                  AND \("plan_cache_mode=" + planning.planCacheMode) = ANY (proconfig)
                """, logger: TestDatabase.logger).collect().first!.decode(Int.self)
            #expect(functions == 1)
        }
    }

    @Test func nothingOfTheScopeOutlivesTheCall() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        try await handle.database.tenantPool.client.withConnection { connection in
            let seen = try Self.canaries(try await handle.database.sessions.readRows(
                fixture.a.tenant.id.testScope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
            #expect(seen.count == 1)
            let after = try await connection.query("""
                SELECT current_user::text, coalesce(current_setting('app.tenant_ctx', true), ''), current_setting('transaction_read_only'),
                       current_setting('plan_cache_mode')
                """, logger: TestDatabase.logger).collect().first!.decode((String, String, String, String).self)
            #expect(after.0 == handle.database.tenantEndpoint.username)
            #expect(after.1 == "")
            #expect(after.2 == "off")
            #expect(after.3 == "auto")
            // And the login, outside any scope, may not read the tenant's table at all.
            let error = await #expect(throws: PSQLError.self) {
                try await connection.query("SELECT count(*)::int FROM app.learners", logger: TestDatabase.logger).collect()
            }
            #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == "42501")
        }
    }

    /// The role a call takes ends with the call even inside a transaction a caller opened (its `SET role = NONE` clause):
    /// `set_config(..., true)` lasts to the end of the transaction, and without the clause the statements after the call
    /// ran as the tenant role with the tenant's signed context (the same for a write, whose function comes from the same
    /// `make`). The rest of such a transaction runs as the login, which may read no tenant table.
    @Test func theRoleEndsWithTheCallInsideACallersTransaction() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        try await handle.database.tenantPool.client.withConnection { connection in
            _ = try await connection.query("BEGIN", logger: TestDatabase.logger).collect()
            let seen = try Self.canaries(try await handle.database.sessions.readRows(
                fixture.a.tenant.id.testScope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
            #expect(seen.count == 1)
            let role = try await connection.query("SELECT current_user::text", logger: TestDatabase.logger).collect().first!.decode(String.self)
            #expect(role == handle.database.tenantEndpoint.username, "the tenant role outlived the call in the caller's transaction")
            let error = await #expect(throws: PSQLError.self) {
                try await connection.query("SELECT count(*)::int FROM app.learners", logger: TestDatabase.logger).collect()
            }
            #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == "42501")
            _ = try await connection.query("ROLLBACK", logger: TestDatabase.logger).collect()
        }
    }

    @Test func aForgedOrMissingContextReadsNothing() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let reads = ScopedReadFunctions.shared
        try await handle.database.tenantPool.client.withConnection { connection in
            // A's signed context with B's id put in: its signature no longer matches.
            let signer = handle.database.sessions.signer
            let signed = signer.context(for: fixture.a.tenant.id, expiresAt: Date().addingTimeInterval(60))
            let ofB = signer.context(for: fixture.b.tenant.id, expiresAt: Date().addingTimeInterval(60))
            let forged = String(ofB.prefix { $0 != "." }) + signed.drop { $0 != "." }
            #expect(forged != ofB && forged != signed)
            // A context whose signature does not match is an error (app.current_tenant() raises P0001).
            for context in [forged, "not-a-context"] {
                let error = await #expect(throws: PSQLError.self, "context \(context.prefix(12))…") {
                    _ = try await reads.rows(Self.statement(), columns: [.text], context: context, timeoutMilliseconds: "10000",
                                             on: connection, logger: TestDatabase.logger)
                }
                #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == "P0001")
            }
            // No context at all is no tenant: row-level security shows nothing.
            let none = try #require(try await reads.rows(Self.statement(), columns: [.text], context: "", timeoutMilliseconds: "10000",
                                                         on: connection, logger: TestDatabase.logger))
            #expect(none.isEmpty)
            // Control: the signed context itself reads A's row.
            let seen = try Self.canaries(try #require(try await reads.rows(Self.statement(), columns: [.text], context: signed,
                                                                           timeoutMilliseconds: "10000", on: connection, logger: TestDatabase.logger)))
            #expect(seen.count == 1 && seen.allSatisfy { $0.contains(fixture.a.canary) })
        }
    }

    @Test func aReadFunctionCannotWrite() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        // A function the tenant role may call that deletes (the derivation queue's drain). (A data-modifying WITH cannot
        // even be written: the statement becomes a subquery.)
        let writing = BoundStatement(sql: "SELECT app.derive_queued_learning_facts(10)::text", values: [])
        try await handle.database.tenantPool.client.withConnection { connection in
            let error = await #expect(throws: PSQLError.self) {
                _ = try await handle.database.sessions.readRows(fixture.a.tenant.id.testScope, writing, columns: [.text], on: connection,
                                                                logger: TestDatabase.logger)
            }
            #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == "25006")
            let seen = try Self.canaries(try await handle.database.sessions.readRows(
                fixture.a.tenant.id.testScope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
            #expect(seen.count == 1)
        }
    }

    @Test func aSessionThatLostItsFunctionsCreatesThemAgain() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let scope = fixture.a.tenant.id.testScope
        try await handle.database.tenantPool.client.withConnection { connection in
            _ = try await handle.database.sessions.readRows(scope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger)
            for discard in ["DISCARD TEMP", "DISCARD ALL"] {
                // Behind this process's back: the session drops its temporary functions (and with ALL its prepared statements).
                try await connection.query(PostgresQuery(unsafeSQL: discard), logger: TestDatabase.logger)
                let seen = try Self.canaries(try await handle.database.sessions.readRows(
                    scope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
                #expect(seen.count == 1 && seen.allSatisfy { $0.contains(fixture.a.canary) }, "after \(discard)")
            }
        }
    }

    @Test func aReportsOwnMissingFunctionIsItsErrorNotALostReadFunction() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let scope = fixture.a.tenant.id.testScope
        try await Self.withRecordedConnection(handle, LogRecorder()) { connection in
            // 42883 raised inside the report (it names a function that does not exist) is the report's error, raised once.
            let missing = BoundStatement(sql: "SELECT tenantscope_no_such_function()::text", values: [])
            let error = await #expect(throws: PSQLError.self) {
                _ = try await handle.database.sessions.readRows(scope, missing, columns: [.text], on: connection, logger: TestDatabase.logger)
            }
            #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == "42883")
            #expect(!SessionFunctions.shared.runsTransactions(on: connection))
            let seen = try Self.canaries(try await handle.database.sessions.readRows(
                scope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
            #expect(seen.count == 1 && seen.allSatisfy { $0.contains(fixture.a.canary) })
        }
    }

    @Test func aSessionThatMayNotCreateFunctionsReadsInTransactions() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let scope = fixture.a.tenant.id.testScope
        let database = handle.database.tenantEndpoint.database
        // A hardened database: TEMP taken from PUBLIC, so the tenant login may not create temporary objects.
        try await PreparedStatementTests.owner(handle, PostgresQuery(unsafeSQL: "REVOKE TEMP ON DATABASE \"\(database)\" FROM PUBLIC"))
        do {
            let recorder = LogRecorder()
            try await Self.withRecordedConnection(handle, recorder) { connection in
                let first = try Self.canaries(try await handle.database.sessions.readRows(
                    scope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
                #expect(first.count == 1 && first.allSatisfy { $0.contains(fixture.a.canary) })
                #expect(SessionFunctions.shared.runsTransactions(on: connection))
                var seen: [String] = []
                let exchanges = try await Self.exchanges(recorder) {
                    seen = try Self.canaries(try await handle.database.sessions.readRows(
                        scope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
                }
                #expect(exchanges == 4)
                #expect(seen.count == 1 && seen.allSatisfy { $0.contains(fixture.a.canary) })
            }
        } catch {
            try await PreparedStatementTests.owner(handle, PostgresQuery(unsafeSQL: "GRANT TEMP ON DATABASE \"\(database)\" TO PUBLIC"))
            throw error
        }
        try await PreparedStatementTests.owner(handle, PostgresQuery(unsafeSQL: "GRANT TEMP ON DATABASE \"\(database)\" TO PUBLIC"))
    }

    /// A read-only session (a moment of `default_transaction_read_only`, a failover) refuses to create a function with
    /// 25006: that request reads in a transaction, and once the session may write again the next one creates its
    /// function. Treated like a missing `TEMP` privilege, it pinned the connection to transactions for its whole life.
    @Test func aReadOnlyMomentCostsOnlyItsOwnRequestsTheirFunctions() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let scope = fixture.a.tenant.id.testScope
        let function = ScopedReadFunctions.shared.function(for: Self.statement(), columns: [.text])
        try await OneShotConnection.with(handle.database.tenantEndpoint, logger: TestDatabase.logger) { connection in
            _ = try await connection.query("SET default_transaction_read_only = on", logger: TestDatabase.logger).collect()
            let during = try Self.canaries(try await handle.database.sessions.readRows(
                scope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
            #expect(during.count == 1 && during.allSatisfy { $0.contains(fixture.a.canary) })
            #expect(!SessionFunctions.shared.isCreated(function, on: connection))
            #expect(!SessionFunctions.shared.runsTransactions(on: connection), "a read-only moment pinned the connection to transactions")
            _ = try await connection.query("SET default_transaction_read_only = off", logger: TestDatabase.logger).collect()
            let after = try Self.canaries(try await handle.database.sessions.readRows(
                scope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
            #expect(after == during)
            #expect(SessionFunctions.shared.isCreated(function, on: connection))
        }
    }

    /// A text of many variants (the LRS statement query: one per combination of its filters) becomes a function on a
    /// connection only while the session holds fewer than ``SessionFunctions/maximumFunctionsOfManyTexts`` of them; past
    /// that it reads in a transaction, with the same rows. Without the bound a client cycling filters made every tenant
    /// connection hold hundreds of compiled functions until it closed.
    @Test func textsOfManyVariantsHoldABoundedNumberOfFunctionsPerSession() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let scope = fixture.a.tenant.id.testScope
        let bound = SessionFunctions.maximumFunctionsOfManyTexts
        try await OneShotConnection.with(handle.database.tenantEndpoint, logger: TestDatabase.logger) { connection in
            for variant in 0...bound {
                var statement = Self.statement(Self.learners + " -- variant \(variant)")
                statement.mayBePrepared = false
                let seen = try Self.canaries(try await handle.database.sessions.readRows(
                    scope, statement, columns: [.text], on: connection, logger: TestDatabase.logger))
                #expect(seen.count == 1 && seen.allSatisfy { $0.contains(fixture.a.canary) }, "variant \(variant)")
                let created = SessionFunctions.shared.isCreated(ScopedReadFunctions.shared.function(for: statement, columns: [.text]), on: connection)
                #expect(created == (variant < bound), "variant \(variant) \(created ? "became" : "did not become") a function")
            }
            // A text of one variant (a report) still becomes one.
            let report = ScopedReadFunctions.shared.function(for: Self.statement(), columns: [.text])
            _ = try await handle.database.sessions.readRows(scope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger)
            #expect(SessionFunctions.shared.isCreated(report, on: connection))
            #expect(!SessionFunctions.shared.runsTransactions(on: connection))
        }
    }

    @Test func withReportFunctionsOffAReadIsATransaction() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = handle.database
        // A text of this test's own, so that no other test has made its function.
        let statement = Self.statement(Self.learners + " -- functions off")
        let name = ScopedReadFunctions.shared.function(for: statement, columns: [.text]).name
        func functions() async throws -> Int {
            try await PreparedStatementTests.ownerRows(handle, "SELECT count(*)::int FROM pg_proc WHERE proname = \(name)").first!.decode(Int.self)
        }
        for (on, expected) in [(false, 0), (true, 1)] {
            let sessions = ScopedDatabase(tenantPool: database.tenantPool, platformPool: database.pool, signer: database.sessions.signer,
                                          statementTimeout: .seconds(30), replicas: nil, router: nil, sessionFunctions: on)
            let seen = try Self.canaries(try await sessions.readRows(fixture.a.tenant.id.testScope, statement, columns: [.text],
                                                                      logger: TestDatabase.logger).rows)
            #expect(seen.count == 1 && seen.allSatisfy { $0.contains(fixture.a.canary) })
            #expect(try await functions() == expected, "report functions \(on ? "on" : "off")")
        }
    }

    @Test func theReportReadsInUTCWhateverTheSessionsZone() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let zone = BoundStatement(sql: "SELECT current_setting('TimeZone')", values: [])
        try await handle.database.tenantPool.client.withConnection { connection in
            try await connection.query("SET TimeZone = 'Pacific/Kiritimati'", logger: TestDatabase.logger)
            let read: [String]
            do {
                read = try await handle.database.sessions.readRows(fixture.a.tenant.id.testScope, zone, columns: [.text], on: connection,
                                                                   logger: TestDatabase.logger).map { try $0.decode(String.self) }
            } catch {
                try await connection.query("RESET TimeZone", logger: TestDatabase.logger)
                throw error
            }
            try await connection.query("RESET TimeZone", logger: TestDatabase.logger)
            #expect(read == ["UTC"])
        }
    }

    @Test func theCallIsBoundedByTheReadTimeout() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let signed = handle.database.sessions.signer.context(for: fixture.a.tenant.id, expiresAt: Date().addingTimeInterval(60))
        try await handle.database.tenantPool.client.withConnection { connection in
            let slow = BoundStatement(sql: "SELECT pg_sleep(5)::text", values: [])
            let error = await #expect(throws: PSQLError.self) {
                _ = try await ScopedReadFunctions.shared.rows(slow, columns: [.text], context: signed, timeoutMilliseconds: "200",
                                                              on: connection, logger: TestDatabase.logger)
            }
            #expect(error.flatMap { PreparedStatements.sqlState(of: $0) } == "57014")
            // The next read with the pool's own timeout sets it back.
            let seen = try Self.canaries(try await handle.database.sessions.readRows(
                fixture.a.tenant.id.testScope, Self.statement(), columns: [.text], on: connection, logger: TestDatabase.logger))
            #expect(seen.count == 1)
            let timeout = try await connection.query("SELECT current_setting('statement_timeout')", logger: TestDatabase.logger)
                .collect().first!.decode(String.self)
            #expect(timeout == "2min")
        }
    }
}

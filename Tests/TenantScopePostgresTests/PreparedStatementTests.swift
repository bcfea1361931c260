import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Statements prepared once per connection (``PreparedStatements``, architecture decision 55): one plan serves
/// every tenant on the connection and answers each only its own rows, and a statement that cannot run prepared
/// on a connection still runs there.
@Suite(.serialized, .freshDatabase) struct PreparedStatementTests {
    /// The canary actors a tenant's learners hold, read by a prepared statement with a parameter.
    static let learners = "SELECT actor_key FROM app.learners WHERE actor_key LIKE :pattern ORDER BY 1"

    static func learners(_ handle: TestDatabase, _ member: TwoTenants.Member, on connection: PostgresConnection,
                         sql: String = learners) async throws -> [String] {
        try await rows(handle, member, on: connection, ReportRunner.statement(sql, values: ["pattern": .text("%canary-%")]))
            .map { try $0.decode(String.self) }
    }

    /// Runs `statement` in `member`'s scope: a read-write transaction, which keeps the session's `plan_cache_mode`.
    static func rows(_ handle: TestDatabase, _ member: TwoTenants.Member, on connection: PostgresConnection,
                     _ statement: BoundStatement, retry: ScopedDatabase.ReadRetry = .beforeBody) async throws -> [PostgresRow] {
        try await handle.database.sessions.run(.tenant(member.tenant.id.testScope), on: connection, access: .readWrite,
                                               statementTimeout: nil, retry: retry, logger: TestDatabase.logger) { scoped in
            try await scoped.rows(statement)
        }
    }

    /// Runs `body` with the session asking for generic plans, and resets that however `body` ends: the connection
    /// goes back to the pool the other tests share.
    static func askingForGenericPlans(on connection: PostgresConnection, _ body: () async throws -> Void) async throws {
        try await connection.query("SET plan_cache_mode = force_generic_plan", logger: TestDatabase.logger)
        do {
            try await body()
        } catch {
            try await connection.query("RESET plan_cache_mode", logger: TestDatabase.logger)
            throw error
        }
        try await connection.query("RESET plan_cache_mode", logger: TestDatabase.logger)
    }

    /// How many of the session's prepared statements hold the text `sql` (with a text pattern) becomes, and
    /// how often PostgreSQL planned them per run (custom) or reused one plan (generic).
    static func plans(of sql: String, on connection: PostgresConnection) async throws -> (statements: Int, custom: Int, generic: Int) {
        let text = ReportRunner.statement(sql, values: ["pattern": .text("")]).sql
        return try await connection.query("""
            SELECT count(*)::int, coalesce(sum(custom_plans), 0)::int, coalesce(sum(generic_plans), 0)::int
            FROM pg_prepared_statements WHERE name LIKE 'tenantscope\\_%' AND statement = \(text)
            """, logger: TestDatabase.logger).collect().first!.decode((Int, Int, Int).self)
    }

    @Test func oneGenericPlanOnAConnectionAnswersEachTenantOnlyItsOwnRows() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        try await handle.database.tenantPool.client.withConnection { connection in
            // Every run uses the statement's generic plan (not PostgreSQL's choice after five runs): the plan
            // that would carry a tenant if one were decided when planning.
            try await Self.askingForGenericPlans(on: connection) {
                for round in 0..<4 {
                    for member in [fixture.a, fixture.b] {
                        let seen = try await Self.learners(handle, member, on: connection)
                        #expect(seen.count == 1, "round \(round): \(seen.count) canary learners")
                        #expect(seen.allSatisfy { $0.contains(member.canary) }, "round \(round): another tenant's learner is visible")
                    }
                }
            }
            // The runs went through one prepared statement, and PostgreSQL ran its generic plan.
            let plans = try await Self.plans(of: Self.learners, on: connection)
            #expect(plans.statements == 1)
            #expect(plans.generic == 8)
            // So did each transaction's first statement (the signed context and the tenant gate), under a name made
            // from its text.
            let scope = BoundStatement(ScopedDatabase.tenantSettings) { $0 == "write" ? .boolean(false) : .text(nil) }.sql
            let names = try await connection.query("""
                SELECT name FROM pg_prepared_statements WHERE statement = \(scope)
                """, logger: TestDatabase.logger).collect().map { try $0.decode(String.self) }
            #expect(names.count == 1)
            #expect(names.allSatisfy { $0.range(of: "^tenantscope_[0-9a-f]{32}$", options: .regularExpression) != nil })
        }
    }

    /// A read-only transaction plans its statements as asked (decision 75): for each run's values even where the session
    /// asks for generic plans, or one generic plan from the first run on (PostgreSQL's own choice would plan the first
    /// five runs for their values). Each tenant still sees only its own rows.
    @Test(arguments: [QueryPlanning.forEachRun, .oncePerConnection])
    func aReadOnlyTransactionPlansAsItsStatementAsks(planning: QueryPlanning) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let sql = Self.learners + " -- read only, \(planning)"
        try await handle.database.tenantPool.client.withConnection { connection in
            func run() async throws {
                for member in [fixture.a, fixture.b, fixture.a] {
                    let seen = try await handle.database.sessions.run(
                        .tenant(member.tenant.id.testScope), on: connection, access: .readOnly, statementTimeout: nil, planning: planning,
                        logger: TestDatabase.logger
                    ) { scoped in
                        try await scoped.rows(ReportRunner.statement(sql, values: ["pattern": .text("%canary-%")])).map { try $0.decode(String.self) }
                    }
                    #expect(seen.count == 1 && seen.allSatisfy { $0.contains(member.canary) })
                }
            }
            if planning == .forEachRun { try await Self.askingForGenericPlans(on: connection, run) } else { try await run() }
            let plans = try await Self.plans(of: sql, on: connection)
            #expect(plans.custom == (planning == .forEachRun ? 3 : 0))
            #expect(plans.generic == (planning == .forEachRun ? 0 : 3))
        }
    }

    /// Runs `query` as the database's owner (DDL for a test).
    /// The rows of `query`, run by the owner on a connection of its own.
    static func ownerRows(_ handle: TestDatabase, _ query: PostgresQuery) async throws -> [PostgresRow] {
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { (connection: PostgresConnection) async throws -> [PostgresRow] in
            try await connection.query(query, logger: TestDatabase.logger).collect()
        }
    }

    static func owner(_ handle: TestDatabase, _ query: PostgresQuery) async throws {
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { (connection: PostgresConnection) async throws -> Void in
            _ = try await connection.query(query, logger: TestDatabase.logger)
        }
    }

    @Test func aStatementWhosePreparationFailedRunsUnnamedOnThatConnection() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let statement = ReportRunner.statement("SELECT app.prepared_probe(:n)", values: ["n": .integer(41)])
        let owner: @Sendable (PostgresQuery) async throws -> Void = { try await Self.owner(handle, $0) }
        try await handle.database.tenantPool.client.withConnection { connection in
            // The function does not exist yet: preparing fails, and PostgresNIO keeps that error for the name.
            await #expect(throws: PSQLError.self) { try await Self.rows(handle, fixture.a, on: connection, statement) }
            try await owner("CREATE FUNCTION app.prepared_probe(n bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT n + 1'")
            try await owner("GRANT EXECUTE ON FUNCTION app.prepared_probe(bigint) TO tenantscope_tenant")
            // The next run asks the server, which has no such statement: it runs unnamed (prepared, it would get the
            // remembered error).
            let answer = try await Self.rows(handle, fixture.a, on: connection, statement).first?.decode(Int.self)
            try await owner("DROP FUNCTION app.prepared_probe(bigint)")
            #expect(answer == 42)
            #expect(PreparedStatements.shared.runsUnnamed(statement, on: connection))
        }
    }

    @Test func aTransactionWhoseStatementsTheServerForgotRunsAgainUnnamed() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        try await handle.database.tenantPool.client.withConnection { connection in
            // Its own text: the first test's statement must stay prepared on whichever connection it gets.
            let sql = Self.learners + " -- forgotten"
            let statement = ReportRunner.statement(sql, values: ["pattern": .text("%canary-%")])
            #expect(try await Self.learners(handle, fixture.a, on: connection, sql: sql).count == 1)
            #expect(!PreparedStatements.shared.runsUnnamed(statement, on: connection))
            try await connection.query("DEALLOCATE ALL", logger: TestDatabase.logger)
            // The run that finds its statements gone meets 26000 at the scope's own statement, before its body: it is
            // rolled back and run again on the same connection, which runs every statement unnamed from then on
            // (what else it had prepared is gone too). The caller sees its rows, not the error.
            #expect(try await Self.learners(handle, fixture.a, on: connection, sql: sql).count == 1)
            #expect(PreparedStatements.shared.runsUnnamed(statement, on: connection))
            #expect(try await Self.learners(handle, fixture.b, on: connection, sql: sql).allSatisfy { $0.contains(fixture.b.canary) })
            // The other tests expect their statements prepared: this connection would run them unnamed.
            try await connection.close()
        }
    }

    @Test func aBodyThatMeetsAForgottenStatementRunsAgainOnlyWhenItMay() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let statement = ReportRunner.statement(Self.learners + " -- forgotten in the body", values: ["pattern": .text("%canary-%")])
        let name = PreparedStatements.shared.name(of: try #require(PreparedStatements.shared.slot(for: statement.sql)))
        for retry in [ScopedDatabase.ReadRetry.anywhere, .beforeBody] {
            try await handle.database.tenantPool.client.withConnection { connection in
                #expect(try await Self.rows(handle, fixture.a, on: connection, statement).count == 1)
                // Only the body's statement is gone: the scope statement runs prepared, and the body meets 26000.
                try await connection.query(PostgresQuery(unsafeSQL: "DEALLOCATE \"\(name)\""), logger: TestDatabase.logger)
                switch retry {
                case .anywhere:
                    // A body that only collects is run again, unnamed.
                    #expect(try await Self.rows(handle, fixture.a, on: connection, statement, retry: retry).count == 1)
                case .beforeBody:
                    // A body that writes or hands rows on is not run twice: the error is the caller's.
                    await #expect(throws: PSQLError.self) { try await Self.rows(handle, fixture.a, on: connection, statement, retry: retry) }
                }
                #expect(PreparedStatements.shared.runsUnnamed(statement, on: connection))
                try await connection.close()
            }
        }
    }

    @Test func aFailedRunKeepsTheStatementPreparedWhenTheServerHasIt() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let one = ReportRunner.statement("SELECT 1 / :n", values: ["n": .integer(1)])
        let zero = ReportRunner.statement("SELECT 1 / :n", values: ["n": .integer(0)])
        #expect(one.sql == zero.sql)
        try await handle.database.tenantPool.client.withConnection { connection in
            _ = try await Self.rows(handle, fixture.a, on: connection, one)
            // Division by zero: the run's own error, after the statement was prepared here.
            await #expect(throws: PSQLError.self) { try await Self.rows(handle, fixture.a, on: connection, zero) }
            #expect(!PreparedStatements.shared.runsUnnamed(one, on: connection))
            #expect(try await Self.rows(handle, fixture.a, on: connection, one).first?.decode(Int.self) == 1)
            // A first run that fails: the server has the statement, so the preparation succeeded and it stays prepared
            // (a tenant-gate refusal during a move must not leave the scope statement unprepared for good).
            let first = ReportRunner.statement("SELECT 2 / :n", values: ["n": .integer(0)])
            await #expect(throws: PSQLError.self) { try await Self.rows(handle, fixture.a, on: connection, first) }
            let then = ReportRunner.statement("SELECT 2 / :n", values: ["n": .integer(1)])
            #expect(try await Self.rows(handle, fixture.a, on: connection, then).first?.decode(Int.self) == 2)
            #expect(!PreparedStatements.shared.runsUnnamed(then, on: connection))
            // A first run that fails and a run after the server was asked that fails too: unnamed from then on.
            let twice = ReportRunner.statement("SELECT 3 / :n", values: ["n": .integer(0)])
            await #expect(throws: PSQLError.self) { try await Self.rows(handle, fixture.a, on: connection, twice) }
            await #expect(throws: PSQLError.self) { try await Self.rows(handle, fixture.a, on: connection, twice) }
            #expect(PreparedStatements.shared.runsUnnamed(twice, on: connection))
        }
    }

    @Test func aStatementWhoseResultTypeChangedRunsUnnamedOnThatConnection() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let statement = ReportRunner.statement("SELECT * FROM app.prepared_shape WHERE :n::int8 > 0", values: ["n": .integer(1)])
        let owner: @Sendable (PostgresQuery) async throws -> Void = { try await Self.owner(handle, $0) }
        try await owner("CREATE VIEW app.prepared_shape AS SELECT 1 AS a")
        try await owner("GRANT SELECT ON app.prepared_shape TO tenantscope_tenant")
        try await handle.database.tenantPool.client.withConnection { connection in
            #expect(try await Self.rows(handle, fixture.a, on: connection, statement).first?.decode(Int.self) == 1)
            // A migration changes what the statement returns: PostgreSQL refuses the prepared one (0A000).
            try await owner("CREATE OR REPLACE VIEW app.prepared_shape AS SELECT 1 AS a, 'b'::text AS b")
            await #expect(throws: PSQLError.self) { try await Self.rows(handle, fixture.a, on: connection, statement) }
            #expect(PreparedStatements.shared.runsUnnamed(statement, on: connection))
            let row = try await Self.rows(handle, fixture.a, on: connection, statement).first?.decode((Int, String).self)
            #expect(row?.0 == 1 && row?.1 == "b")
        }
        try await owner("DROP VIEW app.prepared_shape")
    }
}

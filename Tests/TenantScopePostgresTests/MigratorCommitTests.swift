import Foundation
import PostgresNIO
import Testing
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// A migration statement whose error PostgreSQL raises while producing rows fails the run with that error (decision
/// 98), not with the next statement's "current transaction is aborted" (25P02), and nothing of the migration is kept.
@Suite(.freshDatabase) struct MigratorCommitTests {
    @Test func aMigrationStatementThatFailsWhileProducingRowsFailsTheRun() async throws {
        let handle = try TestDatabase.current
        let failing = Migration(version: 9_999, name: "fails while producing rows", statements: [
            "CREATE TABLE app_private.migrator_commit_probe (id integer)",
            // Division by zero at execution, after the row description: the error comes with the rows.
            "SELECT 1 / (SELECT count(*) FROM app_private.migrator_commit_probe)::int",
        ])
        let migrator = Migrator(ownerEndpoint: handle.ownerEndpoint, logger: TestDatabase.logger, migrations: Migration.all + [failing])
        let error = await #expect(throws: PSQLError.self) { try await migrator.migrate() }
        #expect(error.flatMap(PreparedStatements.sqlState(of:)) == "22012", "division by zero, not 25P02: \(String(reflecting: error))")
        let recorded = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                SELECT (SELECT count(*) FROM app_private.schema_migrations WHERE version = 9999)::int,
                       (to_regclass('app_private.migrator_commit_probe') IS NOT NULL)
                """, logger: TestDatabase.logger).collect().first?.decode((Int, Bool).self)
        }
        #expect(recorded?.0 == 0 && recorded?.1 == false, "nothing of the failed migration is kept")
        // The build's own migrations still apply cleanly afterwards: nothing pending, nothing unknown.
        let outcome = try await Migrator(ownerEndpoint: handle.ownerEndpoint, logger: TestDatabase.logger).migrate()
        #expect(outcome.applied.isEmpty)
    }
}

import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// A scoped transaction is reported committed only when PostgreSQL committed it. A statement's error comes with its
/// rows, so one run for its effect and never read (`SELECT f()`) aborted the transaction silently, and the COMMIT that
/// followed answered ROLLBACK without an error: the caller was told the work was done (decision 98).
@Suite(.database) struct ScopedTransactionCommitTests {
    @Test func aTransactionWhoseStatementFailedUnreadIsNotReportedCommitted() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let scope = fixture.a.tenant.id.testScope
        let name = "unread-" + UUID().uuidString.prefix(8).lowercased()
        await #expect(throws: TransactionRolledBack.self) {
            try await handle.database.sessions.run(scope, access: .readWrite, logger: TestDatabase.logger) { connection in
                try await connection.execute("INSERT INTO app.saved_views (name, days, course, created_by) VALUES (\(name), 7, NULL, 'test')")
                // Division by zero at execution, after the row description: the error is in the rows nobody reads.
                _ = try await connection.query("SELECT 1 / (SELECT count(*) FROM app.saved_views WHERE false)::int")
                return 1
            }
        }
        let stored = try await handle.database.sessions.run(scope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT count(*)::int FROM app.saved_views WHERE name = \(name)").collect().first?.decode(Int.self)
        }
        #expect(stored == 0, "nothing of the transaction was committed")
    }

    /// `execute` reads what the statement returns, so the same error is thrown where the statement ran.
    @Test func executeThrowsTheErrorAStatementRaisesWhileProducingRows() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        await #expect(throws: PSQLError.self) {
            try await handle.database.sessions.run(fixture.a.tenant.id.testScope, logger: TestDatabase.logger) { connection in
                try await connection.execute("SELECT 1 / (SELECT count(*) FROM app.saved_views WHERE false)::int")
            }
        }
    }
}

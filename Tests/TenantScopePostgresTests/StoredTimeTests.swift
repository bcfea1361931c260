import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// `stored` is taken inside the transaction that stores the batch, however long the batch waited before
/// it: the roll-up service looks back a bounded time behind its watermark, and a statement committed with
/// an older `stored` would fall behind it.
@Suite(.database) struct StoredTimeTests {
    @Test func storedIsTheDatabasesClockInsideTheTransaction() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("stored")), name: "Stored", logger: TestDatabase.logger)
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "stored-test"])
        // Prepared "an hour ago" (a batch that waited), one statement with a timestamp of its own and one without.
        let prepared = try StatementBatch.parse(Data(XAPIJSON.array([
            XAPIJSON.statement(extra: #","timestamp":"2026-01-01T00:00:00Z""#), XAPIJSON.statement(),
        ]).utf8), validator: validator, stored: Date().addingTimeInterval(-3600))
        let before = Date()
        _ = try await handle.database.statements.store(prepared, in: tenant.id.testScope, logger: TestDatabase.logger)
        let rows = try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                SELECT stored, "timestamp", statement->>'stored', statement->>'timestamp',
                       to_char(stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM app.statements ORDER BY stored
                """).collect().map { try $0.decode((Date, Date, String, String, String).self) }
        }
        #expect(rows.count == 2)
        for (stored, _, jsonStored, _, columnText) in rows {
            #expect(stored > before.addingTimeInterval(-1), "stored is the time of the transaction, not of the prepare")
            #expect(jsonStored == columnText, "the statement says the same stored time as the column")
        }
        #expect(rows[1].0.timeIntervalSince(rows[0].0) > 0 && rows[1].0.timeIntervalSince(rows[0].0) < 0.001, "one microsecond apart, in order")
        // The sender's own timestamp stays; a statement without one gets its stored time.
        #expect(rows[0].3 == "2026-01-01T00:00:00Z")
        #expect(rows[1].3 == rows[1].4 && rows[1].1 == rows[1].0)
    }

    /// A batch whose client went away while it waited for a connection starts no transaction: nothing is
    /// stored, so no `stored` older than the roll-ups' look-back can appear later.
    @Test func aClientThatLeftGetsNoTransaction() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("gone")), name: "Gone", logger: TestDatabase.logger)
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "gone-test"])
        let prepared = try StatementBatch.parse(Data(XAPIJSON.statement().utf8), validator: validator)
        await #expect(throws: ClientGone.self) {
            try await ClientLiveness.$current.withValue(ClientLiveness { false }) {
                _ = try await handle.database.statements.store(prepared, in: tenant.id.testScope, logger: TestDatabase.logger)
            }
        }
        let count = { try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT count(*)::int FROM app.statements").collect().first?.decode(Int.self) ?? -1
        } }
        #expect(try await count() == 0)
        // Control: the same batch for a client that is still there is stored.
        _ = try await handle.database.statements.store(prepared, in: tenant.id.testScope, logger: TestDatabase.logger)
        #expect(try await count() == 1)
    }
}

import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Two batches that share statement ids in opposite orders, stored at the same time. Each insert waits for the other's
/// uncommitted row of an id both send; inserted in each batch's own order, one could hold x and wait for y while the
/// other held y and waited for x, and PostgreSQL broke the deadlock by failing one (40P01): the LRS answered 500 to a
/// batch it should have stored. The insert takes a batch's ids in one order (sorted), so one waits for the other and
/// then skips what the other stored.
@Suite(.freshDatabase) struct IngestLockOrderTests {
    /// The statements of `ids`, each the same whichever batch sends it (a different one under a stored id is a 409).
    static func batch(_ ids: [UUID], of statements: [UUID: String]) throws -> [PreparedStatement] {
        try VoidingRaceTests.batch(ids.map { statements[$0]! })
    }

    /// A third transaction holds x's row, uncommitted, so both batches are waiting before either can go on: the batch
    /// (x, y) for it at once, the batch (y, x) once it has taken y. When it rolls back, both go on at the same moment;
    /// whenever (x, y) takes x first, inserts in the batches' orders deadlock. Ten rounds: each ended in a deadlock about
    /// every other time before the order was fixed.
    @Test func batchesSharingIdsInOppositeOrdersAreBothStored() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("order")), name: "Lock order",
                                                           logger: TestDatabase.logger)
        let scope = tenant.id.testScope
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { observer in
            for round in 1...10 {
                let x = UUID()
                let y = UUID()
                let statements = [x: VoidingRaceTests.experienced("order", id: x), y: VoidingRaceTests.experienced("order", id: y)]
                let holder = try await HeldTransaction.start(on: db, scope) { connection in
                    _ = try await StatementStore.insert(try Self.batch([x], of: statements), queueingDerivation: false, storedInTransaction: true,
                                                        on: connection)
                }
                let forward = Task { try await db.statements.store(try Self.batch([x, y], of: statements), in: scope, logger: TestDatabase.logger) }
                try #require(try await LockWaiters.await(1, on: observer), "round \(round): the first batch never waited")
                let backward = Task { try await db.statements.store(try Self.batch([y, x], of: statements), in: scope, logger: TestDatabase.logger) }
                try #require(try await LockWaiters.await(2, on: observer), "round \(round): the second batch never waited")
                try await holder.release()

                for (name, task) in [("(x, y)", forward), ("(y, x)", backward)] {
                    if case .failure(let error) = await task.result {
                        Issue.record("round \(round): the batch \(name) failed: \(String(reflecting: error))")
                    }
                }
                for id in [x, y] {
                    #expect(try await db.statements.statement(id: id, voided: false, in: scope, logger: TestDatabase.logger) != nil,
                            "round \(round): \(id) is not stored")
                }
            }
        }
    }
}

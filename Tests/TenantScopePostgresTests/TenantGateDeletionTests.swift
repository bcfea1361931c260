import Foundation
import Synchronization
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The tenant gate and a tenant's deletion (migration 51). A write that had passed the gate while the deletion ran
/// failed its foreign-key check once the deletion committed (23503, a 500), and a deleted tenant's requests passed the
/// gate in the second before the server's credential cache noticed. A write now holds the tenant's row from the gate
/// on: the deletion waits for it and takes what it stored along; after the deletion the gate refuses the tenant (TSM03,
/// a 404 once the control database confirms it is gone).
@Suite(.freshDatabase) struct TenantGateDeletionTests {
    static func batch(_ id: UUID) throws -> [PreparedStatement] {
        try VoidingRaceTests.batch([VoidingRaceTests.experienced("gate", id: id)])
    }

    @Test func aDeletionWaitsForAWriteInFlightAndTheWriteIsStored() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("gate")), name: "Gate", logger: TestDatabase.logger)
        let id = UUID()
        let (passed, passedDone) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseDone) = AsyncStream.makeStream(of: Void.self)
        // A write whose transaction has passed the gate (its first statement) and has not inserted yet.
        let write = Task {
            try await db.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
                passedDone.yield()
                for await _ in release { break }
                return try await StatementStore.insert(try Self.batch(id), queueingDerivation: true, storedInTransaction: true, on: connection)
            }
        }
        for await _ in passed { break }
        let deletion = Task { try await db.tenants.delete(slug: tenant.slug, logger: TestDatabase.logger) }
        let waited = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { try await LockWaiters.await(1, on: $0) }
        #expect(waited, "the deletion went ahead of the write in flight")
        releaseDone.yield()
        #expect(try await write.value == [id], "the write in flight is stored, then deleted with its tenant")
        #expect(try await deletion.value?.id == tenant.id)
    }

    /// The gate finds no row (TSM03), and the control database no tenant: a 404, for a write and a read. (A tenant the
    /// gate finds no row for but the control database places elsewhere is a relocation to retry: `TenantMoveTests`.)
    @Test func aDeletedTenantIsNotFoundAtTheGateForReadsAndWrites() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("gone")), name: "Gone", logger: TestDatabase.logger)
        _ = try await db.statements.store(try Self.batch(UUID()), in: tenant.id.testScope, logger: TestDatabase.logger)
        #expect(try await db.tenants.delete(slug: tenant.slug, logger: TestDatabase.logger)?.id == tenant.id)

        let write = await #expect(throws: TenantScopeError.self) {
            _ = try await db.statements.store(try Self.batch(UUID()), in: tenant.id.testScope, logger: TestDatabase.logger)
        }
        let read = await #expect(throws: TenantScopeError.self) {
            _ = try await db.statements.statement(id: UUID(), voided: false, in: tenant.id.testScope, logger: TestDatabase.logger)
        }
        #expect(write?.kind == .notFound && read?.kind == .notFound)
    }

    /// A catch-up of every tenant that lists one and finds it deleted before its turn goes on with the rest (decision 94).
    @Test func aCatchUpOfEveryTenantSkipsOneDeletedAfterTheListWasRead() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        var listed: [Tenant] = []
        for name in ["before", "gone", "after"] {
            let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug(name)), name: name, logger: TestDatabase.logger)
            _ = try await db.statements.store(try Self.batch(UUID()), in: tenant.id.testScope, logger: TestDatabase.logger)
            listed.append(tenant)
        }
        #expect(try await db.tenants.delete(slug: listed[1].slug, logger: TestDatabase.logger)?.id == listed[1].id)

        let lines = Mutex<[String]>([])
        let outcomes = try await RollupService(database: db, logger: TestDatabase.logger)
            .catchUpAll(tenants: listed, progress: { line in lines.withLock { $0.append(line) } })
        #expect(outcomes.map(\.tenant.id) == [listed[0].id, listed[2].id], "the tenants before and after the deleted one were caught up")
        let progress = lines.withLock { $0 }
        #expect(progress.contains("[2/3] \(listed[1].slug): deleted meanwhile"), "\(progress)")
    }
}

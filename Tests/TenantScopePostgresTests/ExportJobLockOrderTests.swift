import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Three writers change many of a tenant's export jobs in one statement, each in its own plan's order: a worker's claim
/// (it fails jobs whose attempts are used up), expiry, and a learner erasure (it deletes the learner's jobs and revokes
/// the ones that may hold them). Two of them at once could each hold a job the other waited for, and PostgreSQL ended
/// the deadlock by failing one (an erasure's client got a 503). They take turns on the tenant's claim lock: each waits
/// here for a transaction that holds it, as a claim in progress does.
@Suite(.freshDatabase) struct ExportJobLockOrderTests {
    @Test func anErasureAndExpiryWaitForAClaimInProgress() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("exportlock")), name: "Export locks",
                                                           logger: TestDatabase.logger)
        let scope = tenant.id.testScope
        let writers: [(String, @Sendable () async throws -> Void)] = [
            ("a learner erasure", { _ = try await LearnerErasure(database: db).erase(actorKey: "mbox:mailto:nobody@example.com", in: scope,
                                                                                    logger: TestDatabase.logger) }),
            ("expiry", { _ = try await db.exportJobs.expireDue(in: scope, logger: TestDatabase.logger) }),
        ]
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { observer in
            for (name, write) in writers {
                // A claim in progress: its transaction holds the tenant's claim lock until it ends.
                let claim = try await HeldTransaction.start(on: db, scope) { try await $0.execute("SELECT app.lock_export_claims()") }
                let writer = Task { try await write() }
                #expect(try await LockWaiters.await(1, on: observer), "\(name) does not wait for the claim")
                try await claim.release()
                try await writer.value
            }
        }
    }
}

import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Two multipart batches that carry the same new attachment contents in opposite part orders, stored at the same time
/// on connections that run transactions (`--no-session-functions`, or a login without `TEMP`). Each insert of a
/// content waits for the other's uncommitted row of the same hash; inserted in part order, one could hold x and wait
/// for y while the other held y and waited for x, and PostgreSQL ended the deadlock by failing one (a 503 for a batch
/// the LRS should have stored). Contents go in hash order, so one waits for the other and then skips what it stored.
@Suite(.freshDatabase) struct AttachmentLockOrderTests {
    static func content(_ text: String) -> AttachmentContent {
        AttachmentContent(sha2: SQLGuard.sha256(text), contentType: "text/plain", bytes: Array(text.utf8))
    }

    /// A third transaction holds x's row, uncommitted, so both batches wait before either can go on: the one sending
    /// (x, y) at once, the one sending (y, x) once it has taken y. When it rolls back, both go on at the same moment;
    /// whenever (x, y) takes x first, inserts in part order deadlock. Ten rounds, each with its own contents.
    @Test func batchesSendingTheSameContentsInOppositeOrdersAreBothStored() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("attach")), name: "Attachment order",
                                                           logger: TestDatabase.logger)
        let scope = tenant.id.testScope
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { observer in
            for round in 1...10 {
                let x = Self.content("x \(UUID())")
                let y = Self.content("y \(UUID())")
                let holder = try await HeldTransaction.start(on: db, scope) { try await AttachmentStore.insert([x], on: $0) }
                let store = { (contents: [AttachmentContent]) in
                    Task {
                        let batch = try VoidingRaceTests.batch([VoidingRaceTests.experienced("attach")])
                        return try await db.sessions.run(scope, access: .readWrite, logger: TestDatabase.logger,
                                                         StatementStore.inTransaction(batch, attachments: contents))
                    }
                }
                let forward = store([x, y])
                try #require(try await LockWaiters.await(1, on: observer), "round \(round): the first batch never waited")
                let backward = store([y, x])
                try #require(try await LockWaiters.await(2, on: observer), "round \(round): the second batch never waited")
                try await holder.release()

                for (name, task) in [("(x, y)", forward), ("(y, x)", backward)] {
                    if case .failure(let error) = await task.result {
                        Issue.record("round \(round): the batch \(name) failed: \(String(reflecting: error))")
                    }
                }
                let stored = try await db.statements.attachments.contents(sha2s: [x.sha2, y.sha2], in: scope, logger: TestDatabase.logger)
                #expect(stored.map(\.sha2) == [x.sha2, y.sha2], "round \(round): both contents are stored")
            }
        }
    }
}

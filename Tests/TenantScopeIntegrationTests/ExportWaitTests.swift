import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopeTestSupport

/// `tenantscope export create --wait` with no server's export worker on the database (a database of its own, so that no
/// other test's worker runs the job): the wait ends at its time limit and says so (probe 38: it waited for good).
@Suite(.freshDatabase) struct ExportWaitTests {
    @Test func aWaitWithNoWorkerEndsAtItsTimeLimitSayingSo() async throws {
        let url = try TestDatabase.current.ownerEndpoint.url
        let slug = TwoTenants.uniqueSlug("wait")
        #expect(try await TenantScopeBinary.run(["tenant", "create", slug, "--name", "Wait", "--database-url", url]).status == 0)
        let waited = try await TenantScopeBinary.run(["export", "create", "--tenant", slug, "--report", "active_learners", "--wait",
                                                      "--wait-timeout", "2", "--database-url", url])
        #expect(waited.status == 1 && waited.output.contains("is still queued after 2 s"), "\(waited.output)")
        let listed = try await TenantScopeBinary.run(["export", "list", "--tenant", slug, "--database-url", url])
        #expect(listed.status == 0 && listed.output.contains("queued"), "the job stays queued: \(listed.output)")
    }
}

import Foundation
import Testing
@testable import TenantScopePostgres

/// Gives a suite (or a test) a running ``TestDatabase`` for its whole duration.
///
/// - `.database`: the shared database of the test cluster. Suites on it keep to tenants they create
///   themselves (unique slugs), so they run in parallel with each other.
/// - `.freshDatabase`: a database of the suite's own, cloned from the migrated template and dropped
///   afterwards, for suites whose assertions cover every tenant (platform reports, the audit chain).
///
/// The pools run inside the trait's scope (no detached task), and the cluster is stopped by a watchdog
/// when the test process ends (the pattern of the Swift Package Index server's database trait).
struct DatabaseTrait: SuiteTrait, TestTrait, TestScoping {
    enum Kind: Sendable {
        case shared, fresh
    }

    let kind: Kind

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        // A suite's tests run inside the suite's scope: give them that one database, not one each.
        if TestDatabase.provided != nil, testCase != nil { return try await function() }
        let cluster = try await TestPostgres.shared.start()
        let endpoint = kind == .shared ? cluster.ownerEndpoint : try await TestPostgres.shared.cloneTemplate()
        // Migrated once, when the cluster started: migrating per suite would make suites wait on each other.
        let admin = try await AdminDatabase.open(ownerEndpoint: endpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        let provided = TestDatabase(database: admin.runtime, admin: admin, ownerEndpoint: endpoint, root: cluster.root)
        do {
            try await admin.withRunningClients {
                try await TestDatabase.$provided.withValue(provided) { try await function() }
            }
        } catch {
            if kind == .fresh { try? await TestPostgres.shared.drop(endpoint) }
            throw error
        }
        if kind == .fresh { try await TestPostgres.shared.drop(endpoint) }
    }
}

extension Trait where Self == DatabaseTrait {
    /// The shared test database (see ``DatabaseTrait``).
    static var database: Self { DatabaseTrait(kind: .shared) }
    /// A database of the suite's own, cloned from the template (see ``DatabaseTrait``).
    static var freshDatabase: Self { DatabaseTrait(kind: .fresh) }
}

import Foundation
import Logging
@testable import TenantScopeCore
@testable import TenantScopePostgres

/// The database a test runs against, provided by the ``DatabaseTrait`` of its suite: a migrated
/// TenantScope database whose pools run for exactly as long as the suite.
struct TestDatabase: Sendable {
    /// What the server holds: the server role's pool.
    let database: Database
    /// What an operator's command holds: the server's pool plus the owner's.
    let admin: AdminDatabase
    /// The owner endpoint of this database (the shared one, or the suite's own clone).
    let ownerEndpoint: DatabaseEndpoint
    /// The cluster's directory (for tests that need a place for files).
    let root: String

    @TaskLocal static var provided: TestDatabase?

    /// The database of the running suite; a suite without `.database` or `.freshDatabase` has none.
    static var current: TestDatabase {
        get throws {
            guard let provided else { throw TestSetupError("this suite needs the .database or .freshDatabase trait") }
            return provided
        }
    }

    static var logger: Logger { TestPostgres.logger }

    /// The shared test cluster's superuser on this database: to look at rows past row-level security and the tenant gate
    /// (a deleted tenant's scope is refused, so what is left of it is counted this way).
    func superuserEndpoint() async throws -> DatabaseEndpoint {
        var endpoint = try await TestPostgres.shared.start().superuserEndpoint
        endpoint.database = ownerEndpoint.database
        return endpoint
    }

    /// Generous waits: the tests check what happens, not how fast a loaded 2-core machine hands out a
    /// connection (the fault suite and the outage tests set their own, short, limits).
    static let limits = Database.Limits(acquireTimeout: .seconds(60), statementTimeout: .seconds(120))
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension TenantID {
    /// Tests: this tenant's scope, as background work gets it.
    var testScope: TenantScope { ScopePolicy.maintenance(of: self, job: "test") }
}

import Foundation
import Logging
import PostgresNIO
@testable import TenantScopeCore
@testable import TenantScopePostgres

/// Three real PostgreSQL clusters for the tests of tenant placement, each made by the product's own
/// launcher in a fresh directory: the control database (the shared pool) and two dedicated clusters,
/// `eu-1` (region `eu`) and `any-1` (every region), added with the product's own ``ClusterRegistry``.
struct PlacementClusters: Sendable {
    let control: DatabaseEndpoint
    /// Each dedicated cluster's owner, by name.
    let dedicated: [ClusterName: DatabaseEndpoint]
    /// Each cluster's superuser on its TenantScope database (the pool's too): to look at rows past row-level security.
    let superusers: [ClusterName: DatabaseEndpoint]
    /// Each cluster's data directory: to freeze one (`SIGSTOP`) as a host that stopped answering.
    let dataDirectories: [ClusterName: String]
    /// The operator's view, opened after the clusters were added (so its runtime routes to them).
    let admin: AdminDatabase
    var database: Database { admin.runtime }
    /// The control database as the shared fixtures (``TwoTenants``) take it.
    let handle: TestDatabase

    static let eu = try! ClusterName("eu-1")
    static let any = try! ClusterName("any-1")

    /// Starts the three clusters, adds the two dedicated ones, runs `body`, then stops all three.
    static func with<Result: Sendable>(_ body: (PlacementClusters) async throws -> Result) async throws -> Result {
        let root = try TestPostgres.makeTemporaryDirectory("placement")
        var started: [EmbeddedPostgres] = []
        func stopAll() async {
            for cluster in started { try? await cluster.stop() }
        }
        do {
            var owners: [DatabaseEndpoint] = []
            var superusers: [ClusterName: DatabaseEndpoint] = [:]
            var dataDirectories: [ClusterName: String] = [:]
            for name in [ClusterName.pool, eu, any] {
                let cluster = EmbeddedPostgres(configuration: .init(stateDirectory: root + "/" + name.rawValue, relaxedDurability: true),
                                               logger: TestDatabase.logger)
                let owner = try await cluster.start()
                owners.append(owner)
                var superuser = try await cluster.superuserEndpoint()
                superuser.database = owner.database
                superusers[name] = superuser
                dataDirectories[name] = cluster.dataDirectory
                started.append(cluster)
                Watchdog.stopWhenThisProcessExits(dataDirectory: cluster.dataDirectory)
            }
            let setup = try await AdminDatabase.prepare(ownerEndpoint: owners[0], logger: TestDatabase.logger)
            try await setup.withRunningClients {
                _ = try await setup.clusters.add(eu, ownerEndpoint: owners[1], region: "eu", logger: TestDatabase.logger)
                _ = try await setup.clusters.add(any, ownerEndpoint: owners[2], region: nil, logger: TestDatabase.logger)
            }
            let admin = try await AdminDatabase.open(ownerEndpoint: owners[0], logger: TestDatabase.logger, limits: TestDatabase.limits)
            let clusters = PlacementClusters(control: owners[0], dedicated: [eu: owners[1], any: owners[2]], superusers: superusers,
                                             dataDirectories: dataDirectories, admin: admin,
                                             handle: TestDatabase(database: admin.runtime, admin: admin, ownerEndpoint: owners[0], root: root))
            let result = try await admin.withRunningClients { try await body(clusters) }
            await stopAll()
            return result
        } catch {
            await stopAll()
            throw error
        }
    }

    /// How many of `tenant`'s rows `table` holds on `cluster`, counted as that cluster's superuser (past
    /// row-level security): where a tenant's rows really are, whatever the server would show.
    func count(_ table: String, of tenant: TenantID, on cluster: ClusterName) async throws -> Int {
        try await OneShotConnection.with(superusers[cluster]!, logger: TestDatabase.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) WHERE tenant_id = '\(tenant)'"),
                                       logger: TestDatabase.logger).collect().first!.decode(Int.self)
        }
    }
}

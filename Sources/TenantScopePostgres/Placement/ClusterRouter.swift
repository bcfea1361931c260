import Logging
import PostgresNIO
import TenantScopeCore

/// Picks the cluster of a tenant transaction: the one place a tenant scope is turned into a database.
///
/// ``ScopedDatabase`` asks it for every tenant scope; a tenant placed on a dedicated cluster runs there, on
/// that cluster's tenant login with that cluster's signed context, and every other scope stays on the pool.
/// A request can therefore reach only the cluster of its verified tenant.
public final class ClusterRouter: Sendable {
    public let placement: TenantPlacement
    /// The dedicated clusters, opened as they are added.
    let dedicated: DedicatedClusters
    /// The control database's server login, for a tenant the placement map does not know yet.
    private let control: DatabasePool

    init(placement: TenantPlacement, dedicated: DedicatedClusters, control: DatabasePool) {
        self.placement = placement
        self.dedicated = dedicated
        self.control = control
    }

    /// Whether the control database has `tenant` at all: one a database's tenant gate found no row for was deleted a
    /// moment ago, or is placed elsewhere.
    func knows(_ tenant: TenantID, logger: Logger) async throws -> Bool {
        try await control.query("SELECT app.tenant_cluster(\(tenant.rawValue))", logger: logger).first?.decode(String?.self) != nil
    }

    /// The scoped helper of the dedicated cluster that holds `tenant`, or nil when it is on the pool.
    ///
    /// A tenant placed on a cluster this process has not opened yet (added after it started) opens it; one that
    /// cannot be opened is refused as unavailable rather than served from the pool, where its rows are not.
    func dedicatedCluster(of tenant: TenantID, logger: Logger) async throws -> ScopedDatabase? {
        let cluster: ClusterName
        if let known = placement.cluster(of: tenant) {
            cluster = known
        } else if dedicated.isEmpty {
            // No dedicated cluster is open, and the placement map (refreshed every second) names none for this
            // tenant: it is on the pool, or on a cluster added this very second, and then the pool's tenant gate
            // refuses it until the next refresh names that cluster.
            return nil
        } else {
            let rows = try await control.query("SELECT app.tenant_cluster(\(tenant.rawValue))", logger: logger)
            guard let name = try rows.first?.decode(String?.self) else { return nil }  // no such tenant: its scope finds nothing
            cluster = try ClusterName(name)
            placement.record(tenant, on: cluster)
        }
        if cluster.isPool { return nil }
        guard let database = try await dedicated.database(cluster, logger: logger) else {
            logger.error("A tenant is placed on a cluster the control database does not name", metadata: ["db.cluster": "\(cluster)"])
            throw DatabaseUnavailable("the tenant's cluster '\(cluster)' is not known to the control database")
        }
        return database.sessions
    }
}

import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The tenant directory as the running server reads it, and tenant deletion (the platform API), both
/// through SECURITY DEFINER functions the server's login role may execute (`app.tenant_directory()`,
/// `app.delete_tenant(slug)`): the server needs no owner login for them. The directory is the control
/// database's; a tenant on a dedicated cluster also has its row there, which deletion removes first.
public struct TenantDirectory: Sendable {
    let pool: DatabasePool
    /// The dedicated clusters (nil on a dedicated cluster itself).
    let dedicated: DedicatedClusters?

    init(pool: DatabasePool, dedicated: DedicatedClusters? = nil) {
        self.pool = pool
        self.dedicated = dedicated
    }

    public func list(logger: Logger) async throws -> [Tenant] {
        try Self.decode(await pool.query(
            "SELECT \(unescaped: Self.columns) FROM app.tenant_directory()", logger: logger))
    }

    public func find(slug: TenantSlug, logger: Logger) async throws -> Tenant? {
        try Self.decode(await pool.query("""
            SELECT \(unescaped: Self.columns) FROM app.tenant_directory() WHERE slug = \(slug.rawValue)
            """, logger: logger)).first
    }

    static let columns = "id, slug, name, tier, region, created_at, cluster"

    /// Deletes a tenant and, through `ON DELETE CASCADE` on every tenant table, on its LRS credentials
    /// and its learner-key secret, everything it owns: statements, derived facts, roll-ups, product
    /// events, saved views and links. Audit rows about it stay. Returns the deleted tenant, or nil when
    /// there is none with that slug.
    ///
    /// A tenant on a dedicated cluster is deleted there first, then from the control database: should the
    /// second step fail, the tenant is still listed and deleting it again finishes the job.
    public func delete(slug: TenantSlug, logger: Logger) async throws -> Tenant? {
        guard let found = try await find(slug: slug, logger: logger) else { return nil }
        if !found.cluster.isPool {
            guard let cluster = try await dedicated?.database(found.cluster, logger: logger)?.pool else {
                throw DatabaseUnavailable("the tenant's cluster '\(found.cluster)' is not known to the control database")
            }
            _ = try await cluster.query("SELECT id FROM app.delete_tenant(\(slug.rawValue))", logger: logger)
        }
        let deleted = try await pool.query("SELECT id FROM app.delete_tenant(\(slug.rawValue))", logger: logger).first
        guard deleted != nil else { return nil }
        logger.notice("Tenant deleted", metadata: ["tenant.id": "\(found.id)", "db.cluster": "\(found.cluster)"])
        return found
    }

    static func decode(_ rows: [PostgresRow]) throws -> [Tenant] {
        try rows.map { row in
            let (id, slug, name, tier, region, createdAt, cluster) = try row.decode((UUID, String, String, String, String, Date, String).self)
            return Tenant(id: TenantID(id), slug: try TenantSlug(slug), name: name, tier: tier, region: region, createdAt: createdAt,
                          cluster: try ClusterName(cluster))
        }
    }
}

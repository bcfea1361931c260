import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Creates tenants: an operator action from the command line, as the owner role, whose only
/// row-level-security exemption is the `tenants` table itself (policy `owner_directory`). The running
/// server never creates tenants.
public struct TenantRegistry: Sendable {
    let ownerClient: PostgresClient

    /// Creates a tenant on the pool, or on a dedicated `cluster`: then its row is written in both databases
    /// (the control database's routes it, the cluster's is what its tables' rows belong to), the control
    /// database's transaction committing only after the cluster's row is in. A tenant's region must be the
    /// cluster's (residency, enforced by the control database), else it is refused.
    public func create(slug: TenantSlug, name: String, tier: String = "standard", region: String = "default", cluster: ClusterName = .pool,
                       logger: Logger) async throws -> Tenant {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        // In code points, as the column's CHECK (`length`) counts, not grapheme clusters.
        guard (1...200).contains(trimmed.unicodeScalars.count) else {
            throw TenantScopeError.invalidInput("tenant name must be 1-200 characters")
        }
        // Names are printed to operators' terminals (`tenant list`) and pages: an escape sequence or line break in one
        // would rewrite what the operator sees (probe 38).
        guard !trimmed.unicodeScalars.contains(where: \.isControlOrLineSeparator) else {
            throw TenantScopeError.invalidInput("tenant name may not hold control characters or line breaks")
        }
        // The same rule as a cluster's region, which a tenant's must match (probe 38: any text was taken, `mars!!` too).
        try ClusterRegistry.validate(region: region)
        try await TierRegistry(ownerClient: ownerClient).requireTier(tier, logger: logger)
        var clusterOwner: DatabaseEndpoint?
        if !cluster.isPool {
            clusterOwner = try await ClusterRegistry(ownerClient: ownerClient).ownerEndpoint(of: cluster, logger: logger)
            guard clusterOwner != nil else {
                throw TenantScopeError.notFound("no dedicated cluster named '\(cluster)'; see `tenantscope cluster list`")
            }
        }
        let tenant = try await ownerClient.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let rows = try await connection.query("""
                    INSERT INTO app.tenants (slug, name, tier, region, cluster)
                    VALUES (\(slug.rawValue), \(trimmed), \(tier), \(region), \(cluster.rawValue))
                    ON CONFLICT (slug) DO NOTHING
                    RETURNING \(unescaped: TenantDirectory.columns)
                    """, logger: logger).collect()
                guard let tenant = try TenantDirectory.decode(rows).first else {
                    throw TenantScopeError.conflict("a tenant with the slug '\(slug)' already exists")
                }
                if let clusterOwner {
                    try await OneShotConnection.with(clusterOwner, logger: logger) { try await Self.insertCopy(of: tenant, on: $0, logger: logger) }
                }
                try await connection.commit(logger: logger)
                return tenant
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw ResidencyRefusal.conflict(from: error) ?? error
            }
        }
        logger.info("Tenant created", metadata: ["tenant.id": "\(tenant.id)", "db.cluster": "\(cluster)"])
        return tenant
    }

    /// Writes the tenant's row in a dedicated cluster's own database (`connection`: its owner's), unless it is
    /// there: the same id, slug, name and region; its tier is the control database's to apply, so the row names
    /// one that exists there. `tenant create --cluster` and `tenant move` both use it.
    static func insertCopy(of tenant: Tenant, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO app.tenants (id, slug, name, tier, region)
            VALUES (\(tenant.id.rawValue), \(tenant.slug.rawValue), \(tenant.name), 'standard', \(tenant.region))
            ON CONFLICT (id) DO NOTHING
            """, logger: logger)
    }
}

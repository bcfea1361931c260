import Foundation

/// A row of the tenant directory.
public struct Tenant: Hashable, Sendable, Codable {
    public var id: TenantID
    public var slug: TenantSlug
    public var name: String
    public var tier: String
    public var region: String
    public var createdAt: Date
    /// The cluster that holds the tenant's rows: `pool` (the shared pool) or a dedicated cluster.
    public var cluster: ClusterName

    public init(id: TenantID, slug: TenantSlug, name: String, tier: String, region: String, createdAt: Date, cluster: ClusterName = .pool) {
        self.id = id
        self.slug = slug
        self.name = name
        self.tier = tier
        self.region = region
        self.createdAt = createdAt
        self.cluster = cluster
    }
}

import Foundation

/// A row of the tenant directory.
public struct Tenant: Hashable, Sendable, Codable {
    public var id: TenantID
    public var slug: TenantSlug
    public var name: String
    public var tier: String
    public var region: String
    public var createdAt: Date

    public init(id: TenantID, slug: TenantSlug, name: String, tier: String, region: String, createdAt: Date) {
        self.id = id
        self.slug = slug
        self.name = name
        self.tier = tier
        self.region = region
        self.createdAt = createdAt
    }
}

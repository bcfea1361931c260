import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Creates and lists tenants. An administrative path: it runs as the owner role, whose only
/// row-level-security exemption is the `tenants` table itself (policy `owner_directory`).
public struct TenantDirectory: Sendable {
    private let client: PostgresClient

    public init(ownerClient: PostgresClient) {
        self.client = ownerClient
    }

    public func create(slug: TenantSlug, name: String, tier: String = "standard", region: String = "default", logger: Logger) async throws -> Tenant {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(trimmed.count) else {
            throw TenantScopeError.invalidInput("tenant name must be 1-200 characters")
        }
        let rows = try await client.query("""
            INSERT INTO app.tenants (slug, name, tier, region) VALUES (\(slug.rawValue), \(trimmed), \(tier), \(region))
            ON CONFLICT (slug) DO NOTHING
            RETURNING id, slug, name, tier, region, created_at
            """, logger: logger)
        guard let tenant = try await Self.decode(rows).first else {
            throw TenantScopeError.conflict("a tenant with the slug '\(slug)' already exists")
        }
        logger.info("Tenant created", metadata: ["tenant.id": "\(tenant.id)"])
        return tenant
    }

    /// Deletes a tenant and, through `ON DELETE CASCADE` on every tenant table and on its LRS credentials,
    /// everything it owns: statements, derived facts, roll-ups, product events. Audit rows about it stay.
    /// Returns the deleted tenant, or nil when there is none with that slug.
    public func delete(slug: TenantSlug, logger: Logger) async throws -> Tenant? {
        let rows = try await client.query("""
            DELETE FROM app.tenants WHERE slug = \(slug.rawValue)
            RETURNING id, slug, name, tier, region, created_at
            """, logger: logger)
        let deleted = try await Self.decode(rows).first
        if let deleted { logger.notice("Tenant deleted", metadata: ["tenant.id": "\(deleted.id)"]) }
        return deleted
    }

    public func list(logger: Logger) async throws -> [Tenant] {
        try await Self.decode(client.query(
            "SELECT id, slug, name, tier, region, created_at FROM app.tenants ORDER BY slug", logger: logger
        ))
    }

    public func find(slug: TenantSlug, logger: Logger) async throws -> Tenant? {
        try await Self.decode(client.query(
            "SELECT id, slug, name, tier, region, created_at FROM app.tenants WHERE slug = \(slug.rawValue)", logger: logger
        )).first
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [Tenant] {
        var tenants: [Tenant] = []
        for try await (id, slug, name, tier, region, createdAt) in rows.decode((UUID, String, String, String, String, Date).self) {
            tenants.append(Tenant(id: TenantID(id), slug: try TenantSlug(slug), name: name, tier: tier, region: region, createdAt: createdAt))
        }
        return tenants
    }
}

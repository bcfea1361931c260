import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Creates tenants: an operator action from the command line, as the owner role, whose only
/// row-level-security exemption is the `tenants` table itself (policy `owner_directory`). The running
/// server never creates tenants.
public struct TenantRegistry: Sendable {
    let ownerClient: PostgresClient

    public func create(slug: TenantSlug, name: String, tier: String = "standard", region: String = "default", logger: Logger) async throws -> Tenant {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(trimmed.count) else {
            throw TenantScopeError.invalidInput("tenant name must be 1-200 characters")
        }
        try await TierRegistry(ownerClient: ownerClient).requireTier(tier, logger: logger)
        let rows = try await ownerClient.query("""
            INSERT INTO app.tenants (slug, name, tier, region) VALUES (\(slug.rawValue), \(trimmed), \(tier), \(region))
            ON CONFLICT (slug) DO NOTHING
            RETURNING id, slug, name, tier, region, created_at
            """, logger: logger)
        guard let tenant = try TenantDirectory.decode(await rows.collect()).first else {
            throw TenantScopeError.conflict("a tenant with the slug '\(slug)' already exists")
        }
        logger.info("Tenant created", metadata: ["tenant.id": "\(tenant.id)"])
        return tenant
    }
}

import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The tenant directory as the running server reads it, and tenant deletion (the platform API), both
/// through SECURITY DEFINER functions the server's login role may execute (`app.tenant_directory()`,
/// `app.delete_tenant(slug)`): the server needs no owner login for them.
public struct TenantDirectory: Sendable {
    let pool: DatabasePool

    public func list(logger: Logger) async throws -> [Tenant] {
        try Self.decode(await pool.query(
            "SELECT id, slug, name, tier, region, created_at FROM app.tenant_directory()", logger: logger))
    }

    public func find(slug: TenantSlug, logger: Logger) async throws -> Tenant? {
        try Self.decode(await pool.query("""
            SELECT id, slug, name, tier, region, created_at FROM app.tenant_directory() WHERE slug = \(slug.rawValue)
            """, logger: logger)).first
    }

    /// Deletes a tenant and, through `ON DELETE CASCADE` on every tenant table, on its LRS credentials
    /// and its learner-key secret, everything it owns: statements, derived facts, roll-ups, product
    /// events, saved views and links. Audit rows about it stay. Returns the deleted tenant, or nil when
    /// there is none with that slug.
    public func delete(slug: TenantSlug, logger: Logger) async throws -> Tenant? {
        let deleted = try Self.decode(await pool.query(
            "SELECT id, slug, name, tier, region, created_at FROM app.delete_tenant(\(slug.rawValue))", logger: logger)).first
        if let deleted { logger.notice("Tenant deleted", metadata: ["tenant.id": "\(deleted.id)"]) }
        return deleted
    }

    static func decode(_ rows: [PostgresRow]) throws -> [Tenant] {
        try rows.map { row in
            let (id, slug, name, tier, region, createdAt) = try row.decode((UUID, String, String, String, String, Date).self)
            return Tenant(id: TenantID(id), slug: try TenantSlug(slug), name: name, tier: tier, region: region, createdAt: createdAt)
        }
    }
}

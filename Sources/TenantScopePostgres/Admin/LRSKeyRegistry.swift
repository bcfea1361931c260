import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Per-tenant LRS keys in `app_private.lrs_credentials`: creating, listing and revoking them is an
/// operator action (owner connection, from the command line). Secrets are stored only as their hash.
public struct LRSKeyRegistry: Sendable {
    let ownerClient: PostgresClient

    public struct Listing: Sendable, Hashable {
        public var key: String
        public var tenantSlug: String
        public var label: String?
        public var createdAt: Date
        public var revokedAt: Date?
    }

    /// Creates a credential for `tenant`; the secret is returned once and stored only as its hash.
    public func create(tenant: TenantID, label: String?, logger: Logger) async throws -> LRSCredentialSecret {
        // A label is printed to operators' terminals (`lrs-key list`): no escape sequences or line breaks, and short.
        if let label {
            guard label.unicodeScalars.count <= 200, !label.unicodeScalars.contains(where: \.isControlOrLineSeparator) else {
                throw TenantScopeError.invalidInput("an LRS key label is at most 200 characters, without control characters or line breaks")
            }
        }
        let credential = LRSCredentialSecret.generate()
        try await ownerClient.query("""
            INSERT INTO app_private.lrs_credentials (key, tenant_id, secret_sha256, label)
            VALUES (\(credential.key), \(tenant.rawValue), \(credential.secretHash), \(label))
            """, logger: logger)
        logger.info("LRS credential created", metadata: ["tenant.id": "\(tenant)", "lrs.key": "\(credential.key)"])
        return credential
    }

    public func list(logger: Logger) async throws -> [Listing] {
        var listings: [Listing] = []
        let rows = try await ownerClient.query("""
            SELECT c.key, t.slug, c.label, c.created_at, c.revoked_at
            FROM app_private.lrs_credentials c JOIN app.tenants t ON t.id = c.tenant_id
            ORDER BY t.slug, c.created_at
            """, logger: logger)
        for try await (key, slug, label, created, revoked) in rows.decode((String, String, String?, Date, Date?).self) {
            listings.append(Listing(key: key, tenantSlug: slug, label: label, createdAt: created, revokedAt: revoked))
        }
        return listings
    }

    /// Revokes a key; returns the tenant it belonged to, or nil when no active key has that name.
    public func revoke(key: String, logger: Logger) async throws -> TenantID? {
        let rows = try await ownerClient.query("""
            UPDATE app_private.lrs_credentials SET revoked_at = now()
            WHERE key = \(key) AND revoked_at IS NULL RETURNING tenant_id
            """, logger: logger)
        return try await rows.collect().first.map { TenantID(try $0.decode(UUID.self)) }
    }
}

import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Authenticates LRS credentials (HTTP Basic key and secret) as the server's login role, through
/// `app.lrs_credential_tenant`, the one function that turns a key and the hash of a secret into a tenant;
/// the server never reads `app_private.lrs_credentials`. Managing keys is ``LRSKeyRegistry``'s.
public struct LRSCredentials: Sendable {
    let pool: DatabasePool

    /// The tenant a presented key and secret belong to, or nil for an unknown, revoked or wrong one.
    public func tenant(for credential: LRSCredentialSecret, logger: Logger) async throws -> TenantID? {
        guard LRSCredentialSecret.isWellFormedKey(credential.key) else { return nil }
        let rows = try await pool.query(
            "SELECT app.lrs_credential_tenant(\(credential.key), \(credential.secretHash))", logger: logger)
        return try rows.first?.decode(UUID?.self).map(TenantID.init)
    }
}

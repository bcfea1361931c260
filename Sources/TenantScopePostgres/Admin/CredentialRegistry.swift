import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Revoking credentials before they expire: a token by its `jti`, or the dashboard sessions of a tenant
/// (or of one subject in it). Operator actions (owner connection, from the command line); the server
/// picks them up through ``CredentialStateStore`` within its refresh interval.
public struct CredentialRegistry: Sendable {
    let ownerClient: PostgresClient

    public func revokeToken(_ jti: String, reason: String?, logger: Logger) async throws {
        try await ownerClient.query("""
            INSERT INTO app_private.revoked_tokens (jti, reason) VALUES (\(jti), \(reason)) ON CONFLICT (jti) DO NOTHING
            """, logger: logger)
    }

    /// Ends every session of `tenant` (or only `subject`'s) issued until now.
    public func revokeSessions(tenant: TenantID, subject: String?, logger: Logger) async throws {
        try await ownerClient.query("""
            INSERT INTO app_private.revoked_sessions (tenant_id, subject) VALUES (\(tenant.rawValue), \(subject))
            """, logger: logger)
    }
}

import Logging
import PostgresNIO

/// The `jti` deny list (`app_private.revoked_tokens`).
public struct TokenRevocations: Sendable {
    let appClient: PostgresClient
    let ownerClient: PostgresClient

    public func isRevoked(_ jti: String, logger: Logger) async throws -> Bool {
        try await appClient.query("SELECT app.token_revoked(\(jti))", logger: logger).collect().first?.decode(Bool.self) ?? false
    }

    /// Revokes a token id (an operator action, through the owner connection).
    public func revoke(_ jti: String, reason: String?, logger: Logger) async throws {
        try await ownerClient.query("""
            INSERT INTO app_private.revoked_tokens (jti, reason) VALUES (\(jti), \(reason)) ON CONFLICT (jti) DO NOTHING
            """, logger: logger)
    }
}

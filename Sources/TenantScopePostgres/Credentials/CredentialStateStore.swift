import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Reads what decides whether a verified credential still stands, through `app.credential_state`: the
/// live tenants, and the token and session revocations younger than `horizon` (the longest any token or
/// session lives). The server keeps the result in its credential cache and refreshes it every second,
/// so a check costs no round trip.
public struct CredentialStateStore: Sendable {
    let pool: DatabasePool

    public func load(horizon: Duration, logger: Logger) async throws -> CredentialSnapshot {
        var tenants: Set<TenantID> = []
        var revokedTokens: Set<String> = []
        var sessionRevocations: [CredentialSnapshot.SessionRevocation] = []
        let seconds = "\(horizon.components.seconds) seconds"
        let rows = try await pool.query("SELECT kind, tenant_id, value, at FROM app.credential_state(\(seconds)::interval)", logger: logger)
        for row in rows {
            let (kind, tenant, value, at) = try row.decode((String, UUID?, String?, Date).self)
            switch kind {
            case "tenant": if let tenant { tenants.insert(TenantID(tenant)) }
            case "revoked_token": if let value { revokedTokens.insert(value) }
            case "revoked_session":
                if let tenant { sessionRevocations.append(.init(tenant: TenantID(tenant), subject: value, revokedAt: at)) }
            default: continue
            }
        }
        return CredentialSnapshot(tenants: tenants, revokedTokens: revokedTokens, sessionRevocations: sessionRevocations, loadedAt: Date())
    }
}

import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Reads what decides whether a verified credential still stands, through `app.credential_state`: the
/// live tenants, and the token and session revocations younger than `horizon` (the longest a revoked token or
/// session could still pass its other checks). The server keeps the result in its credential cache and
/// refreshes it every second, so a check costs no round trip. Each load also replaces the database's
/// ``TenantPlacement`` with the clusters of the tenants it lists, so routing is as fresh as the tenant list.
public struct CredentialStateStore: Sendable {
    let pool: DatabasePool
    let placement: TenantPlacement

    public func load(horizon: Duration, logger: Logger) async throws -> CredentialSnapshot {
        var tenants: Set<TenantID> = []
        var revokedTokens: Set<String> = []
        var sessionRevocations: [CredentialSnapshot.SessionRevocation] = []
        var clusters: [TenantID: ClusterName] = [:]
        let seconds = "\(horizon.components.seconds) seconds"
        let rows = try await pool.query("SELECT kind, tenant_id, value, at FROM app.credential_state(\(seconds)::interval)", logger: logger)
        for row in rows {
            let (kind, tenant, value, at) = try row.decode((String, UUID?, String?, Date).self)
            switch kind {
            case "tenant":
                guard let tenant else { continue }
                tenants.insert(TenantID(tenant))
                clusters[TenantID(tenant)] = try ClusterName(value ?? ClusterName.pool.rawValue)
            case "revoked_token": if let value { revokedTokens.insert(value) }
            case "revoked_session":
                if let tenant { sessionRevocations.append(.init(tenant: TenantID(tenant), subject: value, revokedAt: at)) }
            default: continue
            }
        }
        placement.replace(with: clusters)
        return CredentialSnapshot(tenants: tenants, revokedTokens: revokedTokens, sessionRevocations: sessionRevocations)
    }
}

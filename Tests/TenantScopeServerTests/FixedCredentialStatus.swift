import Logging
@testable import TenantScopeCore
@testable import TenantScopeServer

/// A credential status for tests without a database: the tenants that exist (nil: any) and the revoked
/// token ids, as a snapshot the server would have loaded.
struct FixedCredentialStatus: CredentialStatus {
    var tenants: Set<TenantID>?
    var revoked: Set<String> = []

    func refusal(jti: String?, tenant: TenantID?, logger: Logger) async throws -> CredentialSnapshot.Refusal? {
        if let jti, revoked.contains(jti) { return .revokedToken }
        if let tenant, let tenants, !tenants.contains(tenant) { return .unknownTenant }
        return nil
    }

    func refusal(session: DashboardSession, logger: Logger) async throws -> CredentialSnapshot.Refusal? {
        try await refusal(jti: session.jti, tenant: session.tenant, logger: logger)
    }
}

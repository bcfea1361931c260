import Logging
import TenantScopeCore

/// Answers whether a verified credential still stands: its tenant exists, its token id is not revoked,
/// and (for a dashboard session) no operator ended it. Throws ``CredentialStateUnavailable`` when that
/// cannot be known, which is a 503, never a 401: a valid credential is not refused for an outage.
public protocol CredentialStatus: Sendable {
    func refusal(jti: String?, tenant: TenantID?, logger: Logger) async throws -> CredentialSnapshot.Refusal?
    func refusal(session: DashboardSession, logger: Logger) async throws -> CredentialSnapshot.Refusal?
}

import Foundation

/// What decides, at one moment, whether a verified credential still stands: the tenants that exist,
/// the token ids revoked, and the dashboard sessions ended by an operator.
///
/// Pure: the server loads it from the database every second and asks it about each request.
public struct CredentialSnapshot: Sendable {
    public struct SessionRevocation: Sendable, Hashable {
        public var tenant: TenantID
        /// Nil: every subject of the tenant.
        public var subject: String?
        public var revokedAt: Date

        public init(tenant: TenantID, subject: String?, revokedAt: Date) {
            self.tenant = tenant
            self.subject = subject
            self.revokedAt = revokedAt
        }
    }

    /// Why a credential no longer stands.
    public enum Refusal: Sendable, Hashable {
        case unknownTenant, revokedToken, revokedSession
    }

    public let tenants: Set<TenantID>
    public let revokedTokens: Set<String>
    public let sessionRevocations: [SessionRevocation]

    public init(tenants: Set<TenantID>, revokedTokens: Set<String>, sessionRevocations: [SessionRevocation]) {
        self.tenants = tenants
        self.revokedTokens = revokedTokens
        self.sessionRevocations = sessionRevocations
    }

    /// Checks a token's `jti` and tenant (nil for a platform token).
    public func refusal(jti: String?, tenant: TenantID?) -> Refusal? {
        if let jti, revokedTokens.contains(jti) { return .revokedToken }
        if let tenant, !tenants.contains(tenant) { return .unknownTenant }
        return nil
    }

    /// Checks a dashboard session: its token's `jti`, its tenant, and the operator's session revocations
    /// made after it was issued.
    public func refusal(session jti: String?, tenant: TenantID?, subject: String, issuedAt: Date) -> Refusal? {
        if let refusal = refusal(jti: jti, tenant: tenant) { return refusal }
        guard let tenant else { return nil }
        let revoked = sessionRevocations.contains { revocation in
            revocation.tenant == tenant && (revocation.subject == nil || revocation.subject == subject) && revocation.revokedAt > issuedAt
        }
        return revoked ? .revokedSession : nil
    }
}

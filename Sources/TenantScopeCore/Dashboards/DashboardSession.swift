import Crypto
import Foundation

/// The signed dashboard session an embed token is exchanged for: who, which tenant (or the platform),
/// and until when. It travels only in an HttpOnly cookie, never in a URL or form.
public struct DashboardSession: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case tenant, platform
    }

    public var kind: Kind
    public var subject: String
    public var tenant: TenantID?
    public var role: TenantUser.Role.RawValue?
    public var attributes: [String: String]
    /// Unix seconds; the embed token's own expiry, so a session never outlives its token.
    public var expires: Int
    /// The embed token's `jti`: revoking the token ends the session at its next request.
    public var jti: String?
    /// Unix milliseconds; when the session was opened, for `tenantscope session revoke`.
    public var issuedAt: Int

    public init(principal: Principal, expires: Date, jti: String? = nil, issuedAt: Date = Date()) {
        switch principal {
        case .tenantUser(let user):
            kind = .tenant
            subject = user.subject
            tenant = user.tenant
            role = user.role.rawValue
            attributes = user.attributes
        case .platformAdmin(let person):
            kind = .platform
            subject = person.name
            tenant = nil
            role = nil
            attributes = [:]
        }
        self.expires = Int(expires.timeIntervalSince1970)
        self.jti = jti
        self.issuedAt = Int((issuedAt.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The principal the session stands for.
    public var principal: Principal? {
        switch kind {
        case .platform:
            return .platformAdmin(operator: subject)
        case .tenant:
            guard let tenant, let role = role.flatMap(TenantUser.Role.init(rawValue:)) else { return nil }
            return .tenantUser(TenantUser(subject: subject, tenant: tenant, role: role, attributes: attributes))
        }
    }
}

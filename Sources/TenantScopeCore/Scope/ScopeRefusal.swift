/// A principal asked for a surface it has no scope on: a tenant credential on a platform route, or a
/// platform credential on a tenant route. Always a 403, and always an audit row.
public struct ScopeRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public let principal: Principal
    public let surface: Surface
    /// What was asked for, in words ("platform reports", "tenant dashboards").
    public let purpose: String

    /// The audit log's action for this refusal.
    public var auditAction: String { surface == .platform ? "platform_scope_refused" : "tenant_scope_refused" }

    /// The tenant the refused principal belongs to, if any (the audit row's `scope_tenant_id`).
    public var principalTenant: TenantID? {
        if case .tenantUser(let user) = principal { return user.tenant }
        return nil
    }

    /// Safe to show the client: it names only what they sent.
    public var description: String {
        switch surface {
        case .platform: "\(purpose) need a platform-admin token"
        case .tenant: "\(purpose) need a tenant token"
        }
    }
}

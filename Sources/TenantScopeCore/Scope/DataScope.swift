/// Whose data a unit of work may see. Every database access to tenant data runs in exactly one scope.
///
/// The cases carry ``TenantScope`` and ``PlatformScope``, which only ``ScopePolicy`` creates: code that
/// holds a `DataScope` holds a decision the policy made, not a tenant id somebody passed along.
public enum DataScope: Hashable, Sendable {
    /// One tenant's rows only; the database enforces it with row-level security.
    case tenant(TenantScope)
    /// Cross-tenant reads of per-tenant roll-ups for a platform operator; always audited.
    case platform(PlatformScope)

    /// The surface whose queries this scope may run.
    public var surface: Surface {
        switch self {
        case .tenant: .tenant
        case .platform: .platform
        }
    }

    /// The one tenant of a tenant scope; nil for the platform scope.
    public var tenant: TenantID? {
        if case .tenant(let scope) = self { return scope.tenant }
        return nil
    }

    /// Who acts in this scope, for logs and audit rows.
    public var actor: String {
        switch self {
        case .tenant(let scope): scope.actor
        case .platform(let scope): scope.operatorName
        }
    }
}

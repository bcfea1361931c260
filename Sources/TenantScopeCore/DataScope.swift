/// Whose data a unit of work may see. Every database access to tenant data runs in exactly one scope.
public enum DataScope: Hashable, Sendable {
    /// One tenant's rows only; the database enforces it with row-level security.
    case tenant(TenantID)
    /// Cross-tenant reads for the platform operator; allowed only for platform admins and always audited.
    case platform(operator: String)
}

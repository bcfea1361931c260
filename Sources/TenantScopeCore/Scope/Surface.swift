/// The two surfaces of TenantScope: everything a tenant's users reach (their reports, dashboards, the
/// LRS, product events) and everything only platform operators reach (cross-tenant reports, platform
/// pages, tenant administration). Tokens, routes, report queries and scopes all name one of these.
public enum Surface: String, Sendable, Hashable, Codable, CaseIterable {
    case tenant, platform
}

import Hummingbird
import TenantScopeCore

/// The context of every tenant-surface handler: it exists only with a verified ``TenantUser`` and the
/// ``TenantScope`` the policy gave them, so a handler cannot run, or reach a store, without both.
public struct TenantRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let user: TenantUser
    public let scope: TenantScope
    /// The dashboard session the request came with, on the dashboard routes.
    public let dashboardSession: DashboardSession?
    /// The rate-limit fields of the answer, as the request's last charge left them.
    public let rateLimit = RateLimitNote()

    public init(context: AppRequestContext) throws {
        guard case .tenantUser(let user)? = context.identity, case .tenant(let scope)? = context.scope, scope.tenant == user.tenant
        else { throw ScopeMissing() }
        self.coreContext = context.coreContext
        self.user = user
        self.scope = scope
        self.dashboardSession = context.dashboardSession
    }

    /// Refuses the request unless the user has `role`; `message` says what needed it.
    public func require(_ role: TenantUser.Role, _ message: String) throws(TenantScopeError) {
        guard user.role == role else { throw .forbidden(message) }
    }
}

import Hummingbird
import TenantScopeCore
import TenantScopePostgres

extension RouterMethods where Context == AppRequestContext {
    /// A group of tenant-surface routes: `authenticator` verifies the credential, ``ScopeMiddleware``
    /// asks ``ScopePolicy`` for the tenant scope (auditing a refusal), and every handler runs in a
    /// ``TenantRequestContext``.
    ///
    /// With `limits`, every request draws on its tenant's rate for the `work`'s surface, and report work runs
    /// in one of its tenant's slots and its tier's budget (``TenantLimitMiddleware``).
    func tenantRoutes(
        _ path: RouterPath = "", authenticator: some RouterMiddleware<AppRequestContext>, purpose: String, audit: AuditLog,
        limits: TenantLimitEnforcer?, work: TenantLimitMiddleware.Work
    ) -> RouterGroup<TenantRequestContext> {
        let group = group(path)
            .add(middleware: authenticator)
            .add(middleware: ScopeMiddleware(surface: .tenant, purpose: purpose, audit: audit))
            .group(context: TenantRequestContext.self)
        if let limits { group.add(middleware: TenantLimitMiddleware(enforcer: limits, work: work)) }
        return group
    }

    /// A group of platform-surface routes: as ``tenantRoutes(_:authenticator:purpose:audit:limits:work:)``, for
    /// platform operators, with handlers in a ``PlatformRequestContext``.
    func platformRoutes(
        _ path: RouterPath = "", authenticator: some RouterMiddleware<AppRequestContext>, purpose: String, audit: AuditLog
    ) -> RouterGroup<PlatformRequestContext> {
        group(path)
            .add(middleware: authenticator)
            .add(middleware: ScopeMiddleware(surface: .platform, purpose: purpose, audit: audit))
            .group(context: PlatformRequestContext.self)
    }
}

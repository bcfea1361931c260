import Hummingbird
import TenantScopeCore
import TenantScopePostgres

extension RouterMethods where Context == AppRequestContext {
    /// A group of tenant-surface routes: `authenticator` verifies the credential, ``ScopeMiddleware``
    /// asks ``ScopePolicy`` for the tenant scope (auditing a refusal), and every handler runs in a
    /// ``TenantRequestContext``.
    ///
    /// With a `limiter`, each handler runs in one of its tenant's slots (``TenantConcurrencyLimiter``): the
    /// routes that run reports and queries.
    func tenantRoutes(
        _ path: RouterPath = "", authenticator: some RouterMiddleware<AppRequestContext>, purpose: String, audit: AuditLog,
        limiter: TenantConcurrencyLimiter? = nil
    ) -> RouterGroup<TenantRequestContext> {
        let group = group(path)
            .add(middleware: authenticator)
            .add(middleware: ScopeMiddleware(surface: .tenant, purpose: purpose, audit: audit))
            .group(context: TenantRequestContext.self)
        if let limiter { group.add(middleware: TenantConcurrencyMiddleware(limiter: limiter)) }
        return group
    }

    /// A group of platform-surface routes: as ``tenantRoutes(_:authenticator:purpose:audit:)``, for
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

import Hummingbird
import Logging
import TenantScopeCore
import TenantScopePostgres

/// Decides the data scope of an authenticated request through ``ScopePolicy`` and stores it in the
/// context; a principal of the wrong surface gets an audited 403.
///
/// The only place a request's scope is decided, and the only place a refusal is audited: route groups
/// get it from ``RouterGroup/tenantRoutes(_:authenticator:purpose:audit:limits:work:)`` and ``RouterGroup/platformRoutes(_:authenticator:purpose:audit:)``.
struct ScopeMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let surface: Surface
    /// What the routes serve, in words, for the refusal message ("platform reports").
    let purpose: String
    let audit: AuditLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let principal = context.identity else { throw AuthenticationError.missing }
        var context = context
        do {
            context.scope = try ScopePolicy.scope(for: principal, on: surface, purpose: purpose)
        } catch {
            try await Self.record(error, route: "\(request.method) \(context.endpointPath ?? request.uri.path)", audit: audit, logger: context.logger)
            throw TenantScopeError.forbidden(error.description)
        }
        return try await next(request, context)
    }

    /// The audit row and log line of a refusal: here, and where an embed link's token is of the other surface.
    static func record(_ refusal: ScopeRefusal, route: String, audit: AuditLog, logger: Logger) async throws {
        try await audit.append(.init(principal: refusal.principal, scopeTenant: refusal.principalTenant, action: refusal.auditAction,
                                     parameters: ["route": route], outcome: "refused"), logger: logger)
        logger.notice("Scope refused", metadata: [
            "scope.surface": "\(refusal.surface)", "principal.surface": "\(refusal.principal.surface)", "route": "\(route)",
        ])
    }
}
